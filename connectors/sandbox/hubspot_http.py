"""How the emulated HubSpot words things on the wire: error bodies, batch envelopes, auth, limits.

HubSpot's error body is {"status":"error","message","correlationId","category",…}; batch calls
answer 200 with "status":"COMPLETE" or 207 with `errors`/`numErrors` when some inputs failed.
Clients branch on exactly these shapes, so they are built in one place.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.gateway import Gateway, RouteSpec, json_response
from connectors.sandbox.hubspot_schema import ObjectType, resolve_type
from connectors.sandbox.hubspot_state import HubSpotState, ItemError
from connectors.sandbox.limits import HubSpotLimiter, Verdict
from connectors.sandbox.timeutil import iso_ms, wall_ms

MAX_BATCH = 100


class HubSpotError(Exception):
    """Raised inside handlers; turned into HubSpot's error body by `hubspot_error`."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR",
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}
    return json_response(body, status)


def standard_error(error: ItemError, sub_category: str | None = None) -> dict[str, Any]:
    """A per-input error inside a 207 (the spec's StandardError)."""
    details = []
    if error.code:
        details.append({"message": error.message, "code": error.code, "in": error.name or ""})
    body: dict[str, Any] = {"status": "error", "category": error.category, "message": error.message,
                            "context": error.context, "errors": details, "links": {}}
    if sub_category:
        body["subCategory"] = sub_category
    return body


def batch_reply(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str,
                ok_status: int = 200) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                            "completedAt": iso_ms(wall_ms())}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return json_response(body, 207)
    return json_response(body, ok_status)


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        raise HubSpotError(400, f"Invalid input JSON on line {error.lineno}, column {error.colno}: "
                                f"{error.msg}") from None


def object_type(name: str) -> ObjectType:
    resolved = resolve_type(name)
    if resolved is None:
        raise HubSpotError(400, f"Unable to infer object type from: {name}")
    return resolved


def batch_inputs(body: Any, limit: int = MAX_BATCH) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise HubSpotError(400, "Invalid input JSON: 'inputs' must be a list")
    if len(inputs) > limit:
        raise HubSpotError(400, f"Batch input limit exceeded: {len(inputs)} inputs sent, "
                                f"at most {limit} are allowed per request.")
    if not all(isinstance(item, dict) for item in inputs):
        raise HubSpotError(400, "Invalid input JSON: every input must be an object")
    return inputs


def reject_duplicates(keys: list[str]) -> None:
    seen: set[str] = set()
    duplicates = sorted({k for k in keys if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    if duplicates:
        raise HubSpotError(400, f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")


def property_list(request: Request, name: str = "properties") -> list[str] | None:
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
    return values or None


class HubSpotGateway(Gateway):
    """Private-app token auth, the burst/search budgets and HubSpot-shaped failures."""

    vendor = "hubspot"

    def __init__(self, state: HubSpotState, *, burst: int = 100, daily: int = 250_000,
                 latency_s: float = 0.0) -> None:
        super().__init__(faults=state.faults, stats=state.stats, settings=state.limit_settings,
                         latency_s=latency_s)
        self.state = state
        self.limiter = HubSpotLimiter(state.limit_settings, burst=burst, daily=daily)

    def authenticate(self, request: Request, spec: RouteSpec) -> tuple[Response | None, Any]:
        header = request.headers.get("authorization", "")
        if not header:
            return hubspot_error(401, "Authentication credentials not found. This API supports "
                                      "OAuth 2.0 authentication and private app access tokens.",
                                 "INVALID_AUTHENTICATION"), None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.state.token:
            return hubspot_error(401, "The access token provided is invalid or does not belong to "
                                      "this portal.", "INVALID_AUTHENTICATION"), None
        return None, token.strip()

    def limit(self, ctx: Any, spec: RouteSpec) -> Verdict:
        return self.limiter.enter(ctx, spec.search)

    def throttled(self, verdict: Verdict, spec: RouteSpec) -> Response:
        policy = verdict.problem if verdict.problem in ("SECONDLY", "DAILY") else "TEN_SECONDLY_ROLLING"
        if spec.search and verdict.problem == "fault":
            policy = "SECONDLY"
        wording = {"SECONDLY": "secondly", "DAILY": "daily"}.get(policy, "ten_secondly_rolling")
        return hubspot_error(429, f"You have reached your {wording} limit.", "RATE_LIMITS",
                             errorType="RATE_LIMIT", policyName=policy,
                             groupName=f"publicapi:private-app:{self.state.portal_id}")

    def error_status(self, status: int) -> Response:
        if status == 429:
            return hubspot_error(429, "You have reached your ten_secondly_rolling limit.",
                                 "RATE_LIMITS", errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
        wording = {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable",
                   504: "Gateway Timeout"}.get(status, "error")
        return hubspot_error(status, f"{status} {wording}: the request could not be completed.",
                             "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")

    def not_found(self, request: Request) -> Response:
        return hubspot_error(404, f"Unable to route {request.method} {request.url.path}",
                             "OBJECT_NOT_FOUND")
