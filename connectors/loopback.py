"""An ASGI app served on loopback in a daemon thread: the sandboxes, the fake Slack and the
interactivity endpoint in tests all need real HTTP with no fixed port and no signal handling."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class LoopbackServer:
    """One uvicorn server on a pre-bound socket (port 0 → a free port), in a daemon thread."""

    def __init__(self, app: Any, name: str, host: str = "127.0.0.1", port: int = 0,
                 keep_alive_s: int = 30) -> None:
        # proto must be IPPROTO_TCP (not 0): asyncio only sets TCP_NODELAY on accepted sockets
        # of such listeners, and without it keep-alive calls stall ~40 ms on delayed ACKs.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, timeout_keep_alive=keep_alive_s)
        self.server = uvicorn.Server(config)
        self.server.capture_signals = _no_signals  # type: ignore[method-assign]  # never touch signals
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"loopback-{name}", daemon=True)

    def start(self, timeout: float = 10.0) -> "LoopbackServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback server {self.thread.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        try:
            self.socket.close()
        except OSError:
            pass


class _NoSignals:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _no_signals() -> _NoSignals:
    return _NoSignals()
