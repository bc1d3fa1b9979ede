"""The request pipeline both emulators share: count → authenticate → throttle → fault → handle.

Vendor apps only say *what* a route does and *how* their vendor words errors; the order of the
cross-cutting steps lives here once, so HubSpot and Xero cannot drift apart in how they count
calls, apply faults or attach rate-limit headers. Control routes (/_sandbox/...) bypass all of it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.faults import Fault, FaultInjector
from connectors.sandbox.limits import LimitSettings, Verdict

log = logging.getLogger("connectors.sandbox")

Handler = Callable[[Request, Any], Awaitable[Response]]
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAINTENANCE_PAGE = "<html><head><title>Down for maintenance</title></head><body>Back soon.</body></html>"


def json_bytes_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None,
                        media_type: str = "application/json; charset=utf-8") -> Response:
    response = Response(body, status_code=status, headers=headers)
    response.headers["content-type"] = media_type
    return response


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_bytes_response(json.dumps(data, separators=(",", ":")).encode(), status, headers)


@dataclass(frozen=True)
class CallEvent:
    """One counted call as a tap sees it: `arrived` before the vendor does anything, `answered`
    once its effects are committed but before the answer leaves (`status` set)."""

    phase: str
    key: str  # "METHOD route-template", as counted
    method: str
    path: str
    body: bytes  # the request body
    status: int | None = None


Tap = Callable[[CallEvent], None]


class Stats:
    """Call counters of one emulator, keyed by "METHOD route-template".

    Taps watch every counted call, in the emulator's own thread. Crash tests use them to kill a
    client at an exact call: before a write happened, or after it happened and before the client
    could learn of it. A tap that returns an awaitable when a call arrives holds that call (and
    only that call) until it completes: concurrency tests keep one run's write in flight until
    another run has got somewhere. With no tap the request pipeline is unchanged.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taps: list[Tap] = []
        self.reset()

    def tap(self, callback: Tap) -> Callable[[], None]:
        """Watch every counted call; returns the function that stops watching."""
        with self._lock:
            self._taps.append(callback)

        def untap() -> None:
            with self._lock:
                if callback in self._taps:
                    self._taps.remove(callback)
        return untap

    def taps(self) -> list[Tap]:
        with self._lock:
            return list(self._taps)

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.total = 0
            self.writes = 0
            self.rate_limited = 0

    def record(self, key: str, status: int, wrote: bool, fault_kind: str | None) -> None:
        with self._lock:
            self.calls[key] += 1
            self.statuses[str(status)] += 1
            self.total += 1
            if wrote:
                self.writes += 1
            if status == 429:
                self.rate_limited += 1
            if fault_kind:
                self.faults[fault_kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "writes": self.writes,
                "rate_limited": self.rate_limited,
                "faults_injected": sum(self.faults.values()),
                "faults": dict(self.faults),
                "calls": dict(sorted(self.calls.items())),
                "statuses": dict(sorted(self.statuses.items())),
            }


@dataclass
class RouteSpec:
    method: str
    template: str
    handler: Handler
    write: bool = False
    auth: str = "api"          # "api": full pipeline; "token": auth only; "none": counted only
    search: bool = False       # HubSpot's search budget instead of the burst budget


class Gateway:
    """Base class of a vendor app. Subclasses implement the hooks below."""

    vendor = "vendor"

    def __init__(self, *, faults: FaultInjector, stats: Stats, settings: LimitSettings,
                 latency_s: float = 0.0) -> None:
        self.faults = faults
        self.stats = stats
        self.settings = settings
        self.latency_s = latency_s

    # ---- vendor hooks -------------------------------------------------------------------
    def authenticate(self, request: Request, spec: RouteSpec) -> tuple[Response | None, Any]:
        return None, None

    def limit(self, ctx: Any, spec: RouteSpec) -> Verdict:
        return Verdict({})

    def throttled(self, verdict: Verdict, spec: RouteSpec) -> Response:
        raise NotImplementedError

    def error_status(self, status: int) -> Response:
        """The body the vendor sends with an unexplained 5xx (and other injected statuses)."""
        raise NotImplementedError

    def not_found(self, request: Request) -> Response:
        raise NotImplementedError

    # ---- plumbing -----------------------------------------------------------------------
    def route(self, method: str, template: str, handler: Handler, **options: Any) -> Route:
        spec = RouteSpec(method, template, handler, **options)
        key = f"{method} {template}"

        async def endpoint(request: Request) -> Response:
            wrote, fault_kind = False, None
            taps = self.stats.taps()
            if taps:
                event = CallEvent("arrived", key, method, request.url.path, await request.body())
                for callback in taps:
                    held = callback(event)
                    if inspect.isawaitable(held):  # the tap holds this call (only this one) until it is done
                        await held
            try:
                response, wrote, fault_kind = await self._process(request, spec)
            except Exception:  # an emulator bug must look like a vendor 500, and be logged
                log.exception("%s sandbox failed on %s %s", self.vendor, method, request.url.path)
                response = self.error_status(500)
            self.stats.record(key, response.status_code, wrote, fault_kind)
            if taps:
                answered = replace(event, phase="answered", status=response.status_code)
                for callback in taps:
                    callback(answered)
            return response

        return Route(template, endpoint, methods=[method], name=key)

    def fallback_route(self) -> Route:
        """Unknown paths: counted, answered the way the vendor answers them."""

        async def endpoint(request: Request) -> Response:
            response = self.not_found(request)
            self.stats.record(f"{request.method} (unmatched)", response.status_code, False, None)
            return response

        return Route("/{rest:path}", endpoint, methods=ALL_METHODS)

    async def _process(self, request: Request, spec: RouteSpec) -> tuple[Response, bool, str | None]:
        if spec.auth == "none":
            await self._latency()
            return await spec.handler(request, None), spec.write, None
        denied, ctx = self.authenticate(request, spec)
        if denied is not None:
            return denied, False, None
        if spec.auth == "token":
            await self._latency()
            return await spec.handler(request, ctx), spec.write, None
        verdict = self.limit(ctx, spec)
        if verdict.problem:
            return self._with_headers(self.throttled(verdict, spec), verdict.headers), False, None
        try:
            await self._latency()   # inside the slot: simulated service time counts as "in flight"
            fault = self.faults.pick(request.method, request.url.path)
            return await self._handle(request, spec, ctx, fault, verdict)
        finally:
            verdict.release()

    async def _handle(self, request: Request, spec: RouteSpec, ctx: Any, fault: Fault | None,
                      verdict: Verdict) -> tuple[Response, bool, str | None]:
        kind = fault.kind if fault else None
        if fault and fault.kind == "status":
            response = self._retry_after(self.error_status(fault.status), fault)
            return self._with_headers(response, verdict.headers), False, kind
        if fault and fault.kind == "rate_limit":
            throttled = Verdict(verdict.headers, problem="fault", retry_after=None)
            response = self.throttled(throttled, spec)
            response.status_code = fault.status
            if "retry-after" in response.headers:
                del response.headers["retry-after"]
            response = self._retry_after(response, fault)
            return self._with_headers(response, verdict.headers), False, kind
        if fault and fault.kind == "wrong_content_type":  # a proxy's maintenance page, not the API
            response = Response(MAINTENANCE_PAGE, status_code=fault.status, media_type="text/html")
            return self._with_headers(response, verdict.headers), False, kind
        if fault and fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
        response = await spec.handler(request, ctx)
        if fault and fault.kind == "commit_then_fail":
            response = self.error_status(fault.status if fault.status >= 500 else 500)
        elif fault and fault.kind == "malformed_json":
            body = bytes(response.body)
            cut = body[: max(1, len(body) // 2)]
            status = fault.status if fault.status != 200 else response.status_code
            response = json_bytes_response(cut, status)
        return self._with_headers(response, verdict.headers), spec.write, kind

    async def _latency(self) -> None:
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)

    @staticmethod
    def _retry_after(response: Response, fault: Fault) -> Response:
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    @staticmethod
    def _with_headers(response: Response, headers: dict[str, str]) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        return response
