"""Pipedrive's token-based rate limits: a burst window per token and a daily token budget.

Two budgets, enforced as Pipedrive documents them:

* burst — at most N requests per API token in any rolling 2-second window (20–120 by plan);
* daily — the company's token budget (30,000 × plan multiplier × seats), where every operation
  costs the `x-token-cost` its OpenAPI operation declares (a list read 10, a single GET 1, …).

Costs are read from the official spec file when the app is built, never copied into code, so a
cost Pipedrive changes in its spec changes here too. Every answer carries `x-ratelimit-limit`,
`x-ratelimit-remaining`, `x-ratelimit-reset` (seconds until the burst window frees up) and
`x-daily-requests-left` (tokens left today); refused calls cost nothing.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from pathlib import Path
from typing import Callable

import yaml

from connectors.sandbox.limits import LimitSettings, RollingWindow, Verdict

BURST_WINDOW_S = 2.0
DAY_S = 86_400.0
BASE_DAILY_TOKENS = 30_000
METHODS = ("get", "put", "post", "patch", "delete")


def daily_token_budget(plan_multiplier: int = 1, seats: int = 1, top_up: int = 0) -> int:
    """A company's daily budget as Pipedrive computes it."""
    return BASE_DAILY_TOKENS * plan_multiplier * seats + top_up


def vendor_spec_path(relative: str) -> Path:
    """Where the official vendor specs live: $LEDGERLINK_VENDOR_SPECS or ../shared/vendor-specs."""
    root = os.environ.get("LEDGERLINK_VENDOR_SPECS")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared" / "vendor-specs"
    return base / relative


@functools.lru_cache(maxsize=4)
def load_token_costs(path: str | None = None) -> dict[tuple[str, str], int]:
    """{(METHOD, "/api/v2/path/{template}"): x-token-cost} for every operation of a spec file."""
    spec_file = Path(path) if path else vendor_spec_path("pipedrive/v2.yaml")
    if not spec_file.is_file():
        raise FileNotFoundError(f"Pipedrive spec {spec_file} not found: the sandbox reads its "
                                f"token costs from it (set LEDGERLINK_VENDOR_SPECS)")
    with spec_file.open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    prefix = "/" + (spec.get("servers") or [{}])[0].get("url", "").split("://", 1)[-1].partition("/")[2]
    prefix = prefix.rstrip("/")
    costs: dict[tuple[str, str], int] = {}
    for path_template, operations in (spec.get("paths") or {}).items():
        for method in METHODS:
            operation = (operations or {}).get(method)
            if isinstance(operation, dict) and "x-token-cost" in operation:
                costs[(method.upper(), prefix + path_template)] = int(operation["x-token-cost"])
    return costs


class TokenBudget:
    """A cost-weighted budget that refills every `window_s` vendor seconds (the daily budget)."""

    def __init__(self, limit: int, window_s: float, settings: LimitSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._settings = settings
        self._clock = clock
        self._start = clock()
        self._spent = 0

    def _roll(self) -> float:
        now = self._clock()
        if now - self._start >= self._settings.scaled(self.window_s):
            self._start, self._spent = now, 0
        return now

    def remaining(self) -> int:
        self._roll()
        return max(0, self.limit - self._spent)

    def try_spend(self, cost: int) -> bool:
        self._roll()
        if self._spent + cost > self.limit:
            return False
        self._spent += cost
        return True

    def wait_s(self) -> float:
        now = self._roll()
        return max(0.0, self._start + self._settings.scaled(self.window_s) - now)

    def reset(self) -> None:
        self._start, self._spent = self._clock(), 0


def seconds_header(seconds: float, settings: LimitSettings) -> str:
    """Whole seconds (at least 1) as Pipedrive sends them; under time compression a decimal,
    since rounding 20 ms up to a second would make a compressed test wait 50 times too long."""
    if settings.time_scale == 1.0:
        return str(max(1, math.ceil(seconds)))
    return f"{max(seconds, 0.001):.3f}"


class PipedriveLimiter:
    """Burst windows per API token and one daily token budget for the company."""

    def __init__(self, settings: LimitSettings, *, burst: int = 80,
                 daily_tokens: int = daily_token_budget(3, 5)) -> None:
        self.settings = settings
        self.burst = burst
        self.daily_tokens = daily_tokens
        self._lock = threading.Lock()
        self._burst: dict[str, RollingWindow] = {}
        self._daily = TokenBudget(daily_tokens, DAY_S, settings)

    def _window(self, token: str) -> RollingWindow:
        if token not in self._burst:
            self._burst[token] = RollingWindow(self.burst, BURST_WINDOW_S, self.settings)
        return self._burst[token]

    def _reset_in(self, window: RollingWindow) -> float:
        """Real seconds until the window has room again; a whole window while it has room
        (Pipedrive's own example answers `x-ratelimit-reset: 2` after one call)."""
        if self.settings.enabled and window.remaining() == 0:
            return window.wait_s()
        return self.settings.scaled(BURST_WINDOW_S)

    def _headers(self, window: RollingWindow) -> dict[str, str]:
        on = self.settings.enabled
        return {"x-ratelimit-limit": str(self.burst),
                "x-ratelimit-remaining": str(window.remaining() if on else self.burst),
                "x-ratelimit-reset": seconds_header(self._reset_in(window), self.settings),
                "x-daily-requests-left": str(self._daily.remaining() if on else self.daily_tokens)}

    def enter(self, token: str, cost: int) -> Verdict:
        with self._lock:
            window = self._window(token)
            if not self.settings.enabled:
                return Verdict(self._headers(window))
            refused = None
            if self._daily.remaining() < cost:
                refused = ("daily", self._daily.wait_s())
            elif window.wait_s() > 0:
                refused = ("burst", window.wait_s())
            if refused:
                problem, wait = refused
                headers = {**self._headers(window), "retry-after": seconds_header(wait, self.settings)}
                return Verdict(headers, problem=problem)
            self._daily.try_spend(cost)
            window.try_take()
            return Verdict(self._headers(window))

    def reset(self) -> None:
        with self._lock:
            self._burst.clear()
            self._daily.reset()
