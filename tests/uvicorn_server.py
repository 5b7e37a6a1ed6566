"""The app under a real uvicorn, in a thread of the test process, on a loopback port:
for what TestClient can't show (a body that arrives in pieces, a client that hangs up
while its request waits)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL once she is ready."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]},
                              name="uvicorn-under-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30  # a guard against hanging, not a timing
        while not server.started or httpx.get(f"{url}/api/status").json()["state"] != "ready":
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
        listening.close()
