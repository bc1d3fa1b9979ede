"""How the emulated Xero words things on the wire: envelopes, error bodies, auth, limits.

Xero answers with an envelope ({"Id","Status":"OK","ProviderName","DateTimeUTC","Invoices":[…]}),
validation failures as an ApiException body ({"ErrorNumber":10,"Type":"ValidationException",…}),
and authentication/authorisation failures as problem details ({"Type":null,"Title":
"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful",…}); 404 is plain text.
Amounts are written as exact JSON numbers (jsonio).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox import jsonio
from connectors.sandbox.gateway import Gateway, RouteSpec, json_bytes_response
from connectors.sandbox.limits import Verdict, XeroLimiter
from connectors.sandbox.timeutil import ms_date, wall_ms
from connectors.sandbox.xero_state import XeroState

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


class XeroError(Exception):
    """Raised inside handlers; carries the exact status and JSON body to send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("Message") or body.get("Detail") or str(status))
        self.status = status
        self.body = body


class NotFound(LookupError):
    """The document a route names does not exist: Xero answers a plain-text 404."""


def api_exception(message: str, elements: list[dict[str, Any]] | None = None, *, number: int = 10,
                  type_: str = "ValidationException") -> dict[str, Any]:
    body: dict[str, Any] = {"ErrorNumber": number, "Type": type_, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return body


def validation_error(message: str) -> XeroError:
    """A request-level validation failure (no element to blame)."""
    return XeroError(400, api_exception("A validation exception occurred",
                                        [{"ValidationErrors": [{"Message": message}]}]))


def query_error(message: str) -> XeroError:
    return XeroError(400, api_exception(message, number=16, type_="QueryParseException"))


def problem(status: int, title: str, detail: str) -> Response:
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail,
            "Instance": str(uuid.uuid4()), "Extensions": {}}
    return xero_json(body, status)


def xero_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = json_bytes_response(jsonio.dumpb(data), status, headers)
    response.headers["Xero-Correlation-Id"] = str(uuid.uuid4())
    return response


def envelope(state: XeroState, key: str, items: list[dict[str, Any]],
             pagination: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": state.app_name,
                            "DateTimeUTC": ms_date(wall_ms())}
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = items
    return body


class XeroGateway(Gateway):
    """Bearer access tokens + xero-tenant-id, the per-tenant/app budgets, Xero-shaped failures."""

    vendor = "xero"

    def __init__(self, state: XeroState, *, latency_s: float = 0.0, **limits: int) -> None:
        super().__init__(faults=state.faults, stats=state.stats, settings=state.limit_settings,
                         latency_s=latency_s)
        self.state = state
        self.limiter = XeroLimiter(state.limit_settings, **limits)

    def authenticate(self, request: Request, spec: RouteSpec) -> tuple[Response | None, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        verdict, expiry = self.state.auth.check(token.strip()) if scheme.lower() == "bearer" else ("invalid", None)
        if verdict == "invalid":
            return problem(401, "Unauthorized", "AuthenticationUnsuccessful"), None
        if verdict == "expired":
            when = datetime.fromtimestamp((expiry or 0) / 1000, tz=timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
            return problem(401, "Unauthorized", f"TokenExpired: token expired at {when}"), None
        if spec.auth == "token":
            return None, None
        tenant = request.headers.get("xero-tenant-id", "").strip().lower()
        books = self.state.tenants.get(tenant)
        if books is None:
            return problem(403, "Forbidden", "AuthenticationUnsuccessful"), None
        return None, books

    def limit(self, ctx: Any, spec: RouteSpec) -> Verdict:
        return self.limiter.enter(ctx.tenant_id)

    def throttled(self, verdict: Verdict, spec: RouteSpec) -> Response:
        problem_name = verdict.problem if verdict.problem in ("minute", "day", "concurrent", "appminute") \
            else "minute"
        response = problem(429, "Too Many Requests", f"Rate limit exceeded: {problem_name} limit")
        response.headers["X-Rate-Limit-Problem"] = problem_name
        if verdict.retry_after is not None:
            response.headers["Retry-After"] = str(verdict.retry_after)
        return response

    def error_status(self, status: int) -> Response:
        if status == 404:  # Xero's 404 is plain text, whatever the route
            response = Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
            response.headers["Xero-Correlation-Id"] = str(uuid.uuid4())
            return response
        titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                  504: "Gateway Timeout", 429: "Too Many Requests"}
        return problem(status, titles.get(status, "Error"), "An error occurred in Xero. Check the API "
                                                            "Status page for current service status.")

    def not_found(self, request: Request) -> Response:
        return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
