"""Test helpers for connector tests: a scripted local HTTP server and a fake clock.

The scripted server is a real HTTP/1.1 server on 127.0.0.1 (keep-alive, real sockets), so retry,
timeout and dropped-connection behaviour is exercised through httpx exactly as in production;
each test scripts the answers per path and reads back every request the server saw.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Step:
    """One scripted answer. `drop` closes the connection without answering; `delay` stalls."""

    status: int = 200
    body: Any = field(default_factory=dict)  # dict/list → JSON; str/bytes → sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    content_type: str = "application/json"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float


Responder = Callable[[Seen], Step]


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._scripts: dict[str, deque[Step | Responder]] = defaultdict(deque)
        self._fallback: dict[str, Responder] = {}
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query),
                            {k.lower(): v for k, v in self.headers.items()}, body, server.clock())
                step = server._next(seen)
                if step.delay:
                    time.sleep(step.delay)
                if step.drop:
                    self.close_connection = True
                    return
                payload = step.body
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                elif isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(step.status)
                self.send_header("Content-Type", step.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in step.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeout tests) is expected, not an error

        self._httpd = Quiet(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *steps: Step | Responder) -> None:
        """Queue answers for requests whose path starts with `path` (used once each, in order)."""
        with self._lock:
            self._scripts[path].extend(steps)

    def always(self, path: str, responder: Responder) -> None:
        """Answer every request under `path` (after its scripted steps run out) with `responder`."""
        self._fallback[path] = responder

    def _next(self, seen: Seen) -> Step:
        with self._lock:
            self.requests.append(seen)
            for prefix in sorted(self._scripts, key=len, reverse=True):
                if seen.path.startswith(prefix) and self._scripts[prefix]:
                    step = self._scripts[prefix].popleft()
                    return step(seen) if callable(step) else step
        for prefix in sorted(self._fallback, key=len, reverse=True):
            if seen.path.startswith(prefix):
                return self._fallback[prefix](seen)
        return Step(200, {})

    def calls(self, path: str | None = None, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if (path is None or r.path.startswith(path))
                    and (method is None or r.method == method)]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class FakeClock:
    """Monotonic time that moves only when someone sleeps; `sleeps` records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)
