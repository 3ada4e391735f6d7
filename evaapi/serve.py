"""The API server: `python -m evaapi.serve` (make run and the container both start it).

uvicorn serves the ASGI application (HTTP and WebSocket) from EVA_HTTP_WORKERS processes that
share one listening socket, so every core takes requests; its supervisor restarts a worker that
dies and stops them all on SIGINT/SIGTERM. uvicorn rather than daphne: a bare ASGI app served
about 8x daphne's requests per process (bench/README.md; with Django on top the server matters
less), it reads request bodies only as fast as the application takes them (so a body limit
bounds memory; daphne reads a whole body before the application sees it), and it serves
Channels' WebSocket consumers alike.
"""

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

import uvicorn

from evaapi.env import env_int, env_str, load_dotenv

PROJECT_DIR = Path(__file__).resolve().parent.parent
APPLICATION = "evaapi.asgi:application"


def server_settings() -> dict:
    """What the server reads from the environment (and `.env`), all documented in .env.example."""
    load_dotenv(PROJECT_DIR / ".env")
    return {
        "host": env_str("EVA_HTTP_HOST", "127.0.0.1"),
        "port": env_int("EVA_HTTP_PORT", 8000),
        "workers": env_int("EVA_HTTP_WORKERS", os.cpu_count() or 1),
        # Read here as well as by the settings: the server refuses a larger WebSocket message
        # before the application sees it.
        "ws_max_size": env_int("GRAPHQL_WS_MAX_MESSAGE_BYTES", 65536),
    }


class PortTaken(Exception):
    pass


def port_check_free(host: str, port: int) -> None:
    """Fails at once, naming the setting, when another process holds the port (uvicorn would
    log an errno and exit, after `make run` had already found something answering there)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortTaken(
                    f"port {port} on {host} is already in use; stop what holds it or set EVA_HTTP_PORT to another port"
                ) from None
            raise


def serve(*, app: str, host: str, port: int, workers: int, ws_max_size: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evaapi.settings")
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=ws_max_size,
        # No permessage-deflate: GraphQL messages are small, and each socket would compress the
        # same message again, each with compression state of its own (Node's ws server leaves
        # it off by default for the same reasons; bench/README.md, subscriptions).
        ws_per_message_deflate=False,
        lifespan="off",
        # Client addresses come from TRUSTED_PROXIES (evaapi.http.client_ip), never from
        # uvicorn's own X-Forwarded-For handling.
        proxy_headers=False,
        server_header=False,
        # The request log line (JSON, with the request id) comes from the application.
        access_log=False,
        log_config=None,
        log_level="warning",
    )


def main(argv: list[str] | None = None) -> int:
    defaults = server_settings()
    parser = argparse.ArgumentParser(prog="python -m evaapi.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--app", default=APPLICATION, help="ASGI application as module:attribute")
    parser.add_argument("--host", default=defaults["host"])
    parser.add_argument("--port", type=int, default=defaults["port"])
    parser.add_argument("--workers", type=int, default=defaults["workers"])
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers (EVA_HTTP_WORKERS) must be at least 1")
    try:
        port_check_free(args.host, args.port)
    except PortTaken as exc:
        print(f"evaapi.serve: {exc}", file=sys.stderr)
        return 1
    serve(app=args.app, host=args.host, port=args.port, workers=args.workers, ws_max_size=defaults["ws_max_size"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
