"""How the emulated QuickBooks Online words things on the wire: envelopes, faults, times, limits.

QBO wraps every answer in an `IntuitResponse` rendered as JSON: `{"Invoice": {...}, "time": ...}`,
`{"QueryResponse": {...}, "time": ...}`, and every failure as `{"Fault": {"Error": [{"Message",
"Detail", "code"}], "type"}, "time"}` — the element names of IntuitRestServiceDef.xsd. Times are
written in the company's server zone (QBO answers in US Pacific time with an offset, seconds
precision), so clients must honour offsets. QBO sends no rate-limit headers at all, so none are
invented here: a 429 carries only the `ThrottleExceeded` fault (code 3001).
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox import jsonio
from connectors.sandbox.gateway import Gateway, RouteSpec, json_bytes_response
from connectors.sandbox.limits import LimitSettings, RollingWindow, Verdict
from connectors.sandbox.timeutil import wall_ms

try:
    from zoneinfo import ZoneInfo

    SERVER_ZONE: Any = ZoneInfo("America/Los_Angeles")
except Exception:  # pragma: no cover - no tz database: a fixed Pacific offset
    from datetime import timedelta

    SERVER_ZONE = timezone(timedelta(hours=-8))


def qbo_time(ms: int, millis: bool = False) -> str:
    """2026-11-02T03:04:05-08:00 (entity MetaData) or with milliseconds (the response `time`)."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(SERVER_ZONE)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds")


def parse_qbo_time(text: str) -> int:
    """An ISO date or date-time (offset optional; none = UTC) to epoch ms; ValueError otherwise."""
    value = str(text).strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(value if len(value) > 10 else value + "T00:00:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


class QBOFault(Exception):
    """Raised inside the emulator; carries the status and the Fault body QBO would send."""

    def __init__(self, status: int, code: str, message: str, detail: str = "",
                 fault_type: str = "ValidationFault", element: str = "") -> None:
        super().__init__(f"{message}: {detail}" if detail else message)
        self.status = status
        self.fault = {"Error": [{"Message": message, "Detail": detail, "code": code,
                                 "element": element}], "type": fault_type}


def validation(code: str, message: str, detail: str = "", element: str = "") -> QBOFault:
    return QBOFault(400, code, message, detail, "ValidationFault", element)


def business(detail: str, element: str = "") -> QBOFault:
    """QBO's catch-all for a rule of the books (code 6000)."""
    return validation("6000", "A business validation error has occurred while processing your request",
                      f"Business Validation Error: {detail}", element)


def missing(field: str) -> QBOFault:
    return validation("2020", "Required param missing, need to supply the required value for the API",
                      f"Required parameter {field} is missing in the request", field)


def invalid_reference(kind: str, ref: Any) -> QBOFault:
    return validation("2500", "Invalid Reference Id",
                      f"Invalid Reference Id : {kind} element id {ref} not found", kind)


def unsupported_property(name: str) -> QBOFault:
    return validation("2010", "Request has invalid or unsupported property",
                      f"Property Name:{name} specified is unsupported or invalid", name)


def not_found(entity: str, entity_id: Any) -> QBOFault:
    return validation("610", "Object Not Found",
                      f"Object Not Found : Something you're trying to use has been made inactive "
                      f"or deleted. Check the fields with accounts, customers, items, vendors or "
                      f"employees. ({entity} {entity_id})")


def stale(entity_id: Any) -> QBOFault:
    return validation("5010", "Stale Object Error",
                      f"Stale Object Error : You and another user were working on the same thing "
                      f"(Id {entity_id}). The other user finished before you did, so your work "
                      f"was not saved.")


def envelope(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "time": qbo_time(wall_ms(), millis=True)}


def qbo_json(data: Any, status: int = 200) -> Response:
    response = json_bytes_response(jsonio.dumpb(data), status)
    response.headers["intuit_tid"] = str(uuid.uuid4())
    return response


def fault_response(error: QBOFault) -> Response:
    return qbo_json(envelope({"Fault": error.fault}), error.status)


def plain_fault(status: int, code: str, message: str, detail: str, fault_type: str) -> Response:
    return fault_response(QBOFault(status, code, message, detail, fault_type))


def throttle_exceeded() -> Response:
    """QBO's 429: the fault alone — no Retry-After, no remaining-count headers (QBO sends none)."""
    return plain_fault(429, "3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                       "The request limit was reached.  Try again later", "SERVICE")


class QuickBooksLimiter:
    """Per realm: 500 requests per rolling minute (batch calls included), the batch endpoint 40
    per minute, and 10 requests in flight per realm and app. Refused calls consume nothing."""

    def __init__(self, settings: LimitSettings, per_minute: int = 500, batch_per_minute: int = 40,
                 concurrent: int = 10) -> None:
        self.settings = settings
        self.per_minute = per_minute
        self.batch_per_minute = batch_per_minute
        self.concurrent = concurrent
        self._lock = threading.Lock()
        self._minute: dict[str, RollingWindow] = {}
        self._batch: dict[str, RollingWindow] = {}
        self._in_flight: dict[str, int] = {}

    def enter(self, realm: str, app: str, is_batch: bool) -> Verdict:
        with self._lock:
            if not self.settings.enabled:
                return Verdict({})
            minute = self._minute.setdefault(realm, RollingWindow(self.per_minute, 60.0, self.settings))
            batch = self._batch.setdefault(realm, RollingWindow(self.batch_per_minute, 60.0, self.settings))
            key = f"{realm}/{app}"
            if self._in_flight.get(key, 0) >= self.concurrent:
                return Verdict({}, problem="concurrent")
            if minute.wait_s() > 0 or (is_batch and batch.wait_s() > 0):
                return Verdict({}, problem="batch" if is_batch and batch.wait_s() > 0 else "minute")
            minute.try_take()
            if is_batch:
                batch.try_take()
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return Verdict({}, release=lambda: self._leave(key))

    def _leave(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._batch.clear()
            self._in_flight.clear()


class QuickBooksGateway(Gateway):
    """Bearer access tokens, the realm in the path, QBO's budgets and QBO-shaped failures."""

    vendor = "quickbooks"

    def __init__(self, state: Any, *, latency_s: float = 0.0, **limits: int) -> None:
        super().__init__(faults=state.faults, stats=state.stats, settings=state.limit_settings,
                         latency_s=latency_s)
        self.state = state
        self.limiter = QuickBooksLimiter(state.limit_settings, **limits)

    def authenticate(self, request: Request, spec: RouteSpec) -> tuple[Response | None, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        verdict = self.state.auth.check(token.strip()) if scheme.lower() == "bearer" else "invalid"
        if verdict != "ok":
            detail = "Token expired" if verdict == "expired" else "Token invalid"
            return plain_fault(401, "3200", "message=AuthenticationFailed; errorCode=003200; "
                               "statusCode=401", f"{detail}: the access token was not accepted",
                               "AuthenticationFault"), None
        realm = request.path_params.get("realm", "")
        if realm != self.state.realm_id:
            return plain_fault(403, "3100", "message=ApplicationAuthorizationFailed; "
                               "errorCode=003100; statusCode=403",
                               f"The app is not connected to company {realm}",
                               "AuthorizationFault"), None
        return None, self.state.books

    def limit(self, ctx: Any, spec: RouteSpec) -> Verdict:
        return self.limiter.enter(self.state.realm_id, self.state.auth.client_id,
                                  spec.template.endswith("/batch"))

    def throttled(self, verdict: Verdict, spec: RouteSpec) -> Response:
        return throttle_exceeded()

    def error_status(self, status: int) -> Response:
        if status == 429:
            return throttle_exceeded()
        return plain_fault(status, "10000", "An application error has occurred while processing "
                           "your request", f"System Failure Error: HTTP {status}", "SystemFault")

    def not_found(self, request: Request) -> Response:
        return plain_fault(404, "610", "Object Not Found",
                           f"Object Not Found : {request.url.path} is not a QuickBooks Online resource",
                           "ValidationFault")
