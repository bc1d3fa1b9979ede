"""How the emulated Pipedrive words things on the wire: envelopes, error bodies, auth, limits.

Every answer is `{"success": …, "data": …, "additional_data": …}`; an error is the spec's error
shape `{"success": false, "error", "error_info", "data": null, "additional_data": null}`. The API
token travels in the `x-api-token` header (the spec's `api_key` scheme) or, as older clients send
it, in an `api_token` query parameter. Clients branch on exactly these shapes, so they are built
in one place.
"""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox import jsonio
from connectors.sandbox.gateway import Gateway, RouteSpec, json_bytes_response
from connectors.sandbox.limits import Verdict
from connectors.sandbox.pipedrive_limits import PipedriveLimiter, daily_token_budget
from connectors.sandbox.pipedrive_query import QueryError
from connectors.sandbox.pipedrive_state import PipedriveState

ERROR_INFO = "Please check developers.pipedrive.com for more information"


class PipedriveError(Exception):
    """Raised inside handlers; turned into Pipedrive's error body by `pipedrive_handler`."""

    def __init__(self, status: int, error: str, error_info: str = ERROR_INFO) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.error_info = error_info


def reply(data: Any, status: int = 200, additional: Mapping[str, Any] | None = None) -> Response:
    """A success envelope; money (Decimal) is written with its exact digits."""
    body: dict[str, Any] = {"success": True, "data": data}
    if additional is not None:
        body["additional_data"] = dict(additional)
    return json_bytes_response(jsonio.dumpb(body), status)


def page_reply(data: list[Any], next_cursor: str | None) -> Response:
    return reply(data, additional={"next_cursor": next_cursor})


def error_reply(status: int, error: str, error_info: str = ERROR_INFO) -> Response:
    body = {"success": False, "error": error, "error_info": error_info, "data": None,
            "additional_data": None}
    return json_bytes_response(jsonio.dumpb(body), status)


def pipedrive_handler(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Turn PipedriveError / QueryError raised in a handler into Pipedrive's error body."""

    @functools.wraps(fn)
    async def wrapper(*args: Any) -> Response:
        try:
            return await fn(*args)
        except PipedriveError as problem:
            return error_reply(problem.status, problem.error, problem.error_info)
        except QueryError as problem:
            return error_reply(400, str(problem))

    return wrapper


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = jsonio.loads(raw) if raw.strip() else {}
    except ValueError:
        raise PipedriveError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise PipedriveError(400, "Request body must be a JSON object")
    return body


def path_id(request: Request) -> int:
    try:
        return int(request.path_params["id"])
    except ValueError:
        raise PipedriveError(400, "id must be an integer") from None


class PipedriveGateway(Gateway):
    """API-token auth, the burst and daily token budgets, and Pipedrive-shaped failures."""

    vendor = "pipedrive"

    def __init__(self, state: PipedriveState, costs: Mapping[tuple[str, str], int], *,
                 burst: int = 80, daily_tokens: int = daily_token_budget(3, 5),
                 latency_s: float = 0.0) -> None:
        super().__init__(faults=state.faults, stats=state.stats, settings=state.limit_settings,
                         latency_s=latency_s)
        self.state = state
        self.costs = costs
        self.limiter = PipedriveLimiter(state.limit_settings, burst=burst, daily_tokens=daily_tokens)

    def cost(self, spec: RouteSpec) -> int:
        return self.costs[(spec.method, spec.template)]

    def authenticate(self, request: Request, spec: RouteSpec) -> tuple[Response | None, Any]:
        token = request.headers.get("x-api-token") or request.query_params.get("api_token")
        if not token or token != self.state.token:
            return error_reply(401, "unauthorized access"), None
        return None, token

    def limit(self, ctx: Any, spec: RouteSpec) -> Verdict:
        return self.limiter.enter(ctx, self.cost(spec))

    def throttled(self, verdict: Verdict, spec: RouteSpec) -> Response:
        if verdict.problem == "daily":
            return error_reply(429, "Daily API token budget exceeded",
                               "The company's daily token budget is spent; it is renewed daily.")
        return error_reply(429, "Request over limit")

    def error_status(self, status: int) -> Response:
        wording = {429: "Request over limit", 500: "Internal server error", 502: "Bad gateway",
                   503: "Service unavailable", 504: "Gateway timeout"}.get(status, "Request failed")
        return error_reply(status, wording)

    def not_found(self, request: Request) -> Response:
        return error_reply(404, f"Unknown method {request.method} {request.url.path}")
