"""The bare ASGI baseline for bench/http.py: no framework, the same JSON body as EVA's `/health`.

What a request costs the server alone (uvicorn or daphne): the upper bound any application on
it can reach. Answers GET /health with 200 and anything else with 404; no lifespan work."""

import json

from evaapi import __version__

BODY = json.dumps({"status": "healthy", "version": __version__}).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
NOT_FOUND = [(b"content-type", b"text/plain"), (b"content-length", b"9")]


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/health" and scope["method"] == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})
    else:
        await send({"type": "http.response.start", "status": 404, "headers": NOT_FOUND})
        await send({"type": "http.response.body", "body": b"not found"})
