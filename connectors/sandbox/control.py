"""/_sandbox/... control endpoints, the same on both emulators.

Tests, the demo and benchmarks steer an emulator over HTTP as well as from Python: read and reset
call counters, add or clear fault rules, switch rate limits or compress time. These routes are
deliberately outside the gateway pipeline — never counted, never throttled, never faulted — so
observing a run does not change it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.faults import FaultInjector, FaultRuleError
from connectors.sandbox.gateway import Stats, json_response
from connectors.sandbox.limits import LimitSettings


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def control_routes(*, stats: Stats, faults: FaultInjector, settings: LimitSettings,
                   reset_limits: Callable[[], None],
                   describe_state: Callable[[], dict[str, Any]]) -> list[Route]:
    """Routes under /_sandbox/ for one emulator."""

    async def get_stats(request: Request) -> Response:
        return json_response(stats.snapshot())

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return json_response(stats.snapshot())

    async def get_faults(request: Request) -> Response:
        return json_response({"rules": faults.describe()})

    async def add_faults(request: Request) -> Response:
        try:
            faults.add(await _json_body(request))
        except (FaultRuleError, ValueError, TypeError, KeyError) as error:
            return json_response({"error": f"bad fault rule: {error}"}, 400)
        return json_response({"rules": faults.describe()}, 201)

    async def clear_faults(request: Request) -> Response:
        faults.clear()
        return json_response({"rules": []})

    async def get_limits(request: Request) -> Response:
        return json_response({"enabled": settings.enabled, "time_scale": settings.time_scale})

    async def set_limits(request: Request) -> Response:
        try:
            body = await _json_body(request)
            if "enabled" in body:
                settings.enabled = bool(body["enabled"])
            if "time_scale" in body:
                scale = float(body["time_scale"])
                if scale <= 0:
                    raise ValueError("time_scale must be > 0")
                settings.time_scale = scale
        except (ValueError, TypeError, AttributeError) as error:
            return json_response({"error": f"bad limits: {error}"}, 400)
        if body.get("reset", True):
            reset_limits()
        return json_response({"enabled": settings.enabled, "time_scale": settings.time_scale})

    async def get_state(request: Request) -> Response:
        return json_response(describe_state())

    return [
        Route("/_sandbox/stats", get_stats, methods=["GET"]),
        Route("/_sandbox/stats/reset", reset_stats, methods=["POST"]),
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/faults", add_faults, methods=["POST"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/_sandbox/limits", get_limits, methods=["GET"]),
        Route("/_sandbox/limits", set_limits, methods=["POST"]),
        Route("/_sandbox/state", get_state, methods=["GET"]),
    ]
