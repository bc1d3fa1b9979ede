"""Vendor rate limits, enforced the way each vendor documents them.

A connector that paces itself correctly against these budgets will pace itself correctly against
the real services; one that does not gets the same 429s and headers it would get in production.
Limits can be switched off (plain functional tests) and time-compressed (`time_scale`): with
time_scale=60 Xero's one-minute window lasts one second, so a benchmark can exercise hours of
throttling behaviour in a minute. Token lifetimes read the same knob.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class LimitSettings:
    """Shared, live-adjustable switches (POST /_sandbox/limits changes them at runtime)."""

    enabled: bool = True
    time_scale: float = 1.0

    def scaled(self, seconds: float) -> float:
        """A vendor duration in real seconds under the current time compression."""
        return seconds / self.time_scale if self.time_scale > 0 else seconds


class RollingWindow:
    """At most `limit` events in any trailing window of `window_s` vendor seconds."""

    def __init__(self, limit: int, window_s: float, settings: LimitSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._settings = settings
        self._clock = clock
        self._events: deque[float] = deque()

    def _trim(self, now: float) -> None:
        cutoff = now - self._settings.scaled(self.window_s)
        events = self._events
        while events and events[0] <= cutoff:
            events.popleft()

    def remaining(self) -> int:
        self._trim(self._clock())
        return max(0, self.limit - len(self._events))

    def try_take(self) -> bool:
        now = self._clock()
        self._trim(now)
        if len(self._events) >= self.limit:
            return False
        self._events.append(now)
        return True

    def wait_s(self) -> float:
        """Real seconds until a slot frees up (0 when one is free now)."""
        now = self._clock()
        self._trim(now)
        if len(self._events) < self.limit:
            return 0.0
        return max(0.0, self._events[0] + self._settings.scaled(self.window_s) - now)

    def reset(self) -> None:
        self._events.clear()


class FixedWindow:
    """A counter that resets every `window_s` vendor seconds (daily budgets)."""

    def __init__(self, limit: int, window_s: float, settings: LimitSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._settings = settings
        self._clock = clock
        self._start = clock()
        self._count = 0

    def _roll(self, now: float) -> None:
        if now - self._start >= self._settings.scaled(self.window_s):
            self._start = now
            self._count = 0

    def remaining(self) -> int:
        self._roll(self._clock())
        return max(0, self.limit - self._count)

    def try_take(self) -> bool:
        now = self._clock()
        self._roll(now)
        if self._count >= self.limit:
            return False
        self._count += 1
        return True

    def wait_s(self) -> float:
        now = self._clock()
        self._roll(now)
        if self._count < self.limit:
            return 0.0
        return max(0.0, self._start + self._settings.scaled(self.window_s) - now)

    def reset(self) -> None:
        self._start = self._clock()
        self._count = 0


def retry_after_seconds(wait_s: float) -> int:
    """Retry-After as Xero sends it: whole seconds, at least 1 when a wait is needed."""
    return max(1, math.ceil(wait_s))


@dataclass
class Verdict:
    """Outcome of asking a limiter for a slot: headers always, a problem only when refused."""

    headers: dict[str, str]
    problem: str | None = None          # vendor's name for the exhausted budget
    retry_after: int | None = None      # whole seconds, when the vendor sends Retry-After
    release: Callable[[], None] = field(default=lambda: None)


class HubSpotLimiter:
    """Private-app burst budget per token per rolling 10 s, a daily budget, and search's own
    5 requests/s per account (the spec marks search as exempt from the ten-secondly budget)."""

    def __init__(self, settings: LimitSettings, burst: int = 100, daily: int = 250_000,
                 search_per_second: int = 5) -> None:
        self.settings = settings
        self.burst = burst
        self.daily = daily
        self.search_per_second = search_per_second
        self._lock = threading.Lock()
        self._burst: dict[str, RollingWindow] = {}
        self._daily: dict[str, FixedWindow] = {}
        self._search = RollingWindow(search_per_second, 1.0, settings)

    def _windows(self, token: str) -> tuple[RollingWindow, FixedWindow]:
        if token not in self._burst:
            self._burst[token] = RollingWindow(self.burst, 10.0, self.settings)
            self._daily[token] = FixedWindow(self.daily, 86_400.0, self.settings)
        return self._burst[token], self._daily[token]

    def _headers(self, burst: RollingWindow, daily: FixedWindow) -> dict[str, str]:
        on = self.settings.enabled
        return {
            "X-HubSpot-RateLimit-Max": str(self.burst),
            "X-HubSpot-RateLimit-Remaining": str(burst.remaining() if on else self.burst),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.settings.scaled(10.0) * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self.daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(daily.remaining() if on else self.daily),
        }

    def enter(self, token: str, is_search: bool) -> Verdict:
        with self._lock:
            burst, daily = self._windows(token)
            if not self.settings.enabled:
                return Verdict(self._headers(burst, daily))
            window = self._search if is_search else burst
            if daily.remaining() == 0:
                return Verdict(self._headers(burst, daily), problem="DAILY")
            if window.wait_s() > 0:            # refused calls consume nothing
                return Verdict(self._headers(burst, daily),
                               problem="SECONDLY" if is_search else "TEN_SECONDLY_ROLLING")
            daily.try_take()
            window.try_take()
            return Verdict(self._headers(burst, daily))

    def reset(self) -> None:
        with self._lock:
            self._burst.clear()
            self._daily.clear()
            self._search.reset()


class XeroLimiter:
    """Per tenant: 60/minute, 5 concurrent, 5,000/day; per app: 10,000/minute."""

    def __init__(self, settings: LimitSettings, per_minute: int = 60, concurrent: int = 5,
                 daily: int = 5_000, app_per_minute: int = 10_000) -> None:
        self.settings = settings
        self.per_minute = per_minute
        self.concurrent = concurrent
        self.daily = daily
        self.app_per_minute = app_per_minute
        self._lock = threading.Lock()
        self._minute: dict[str, RollingWindow] = {}
        self._day: dict[str, RollingWindow | FixedWindow] = {}
        self._in_flight: dict[str, int] = {}
        self._app = RollingWindow(app_per_minute, 60.0, settings)

    def _windows(self, tenant: str) -> tuple[RollingWindow, FixedWindow]:
        if tenant not in self._minute:
            self._minute[tenant] = RollingWindow(self.per_minute, 60.0, self.settings)
            self._day[tenant] = FixedWindow(self.daily, 86_400.0, self.settings)
        return self._minute[tenant], self._day[tenant]  # type: ignore[return-value]

    def _headers(self, minute: RollingWindow, day: FixedWindow) -> dict[str, str]:
        on = self.settings.enabled
        return {
            "X-DayLimit-Remaining": str(day.remaining() if on else self.daily),
            "X-MinLimit-Remaining": str(minute.remaining() if on else self.per_minute),
            "X-AppMinLimit-Remaining": str(self._app.remaining() if on else self.app_per_minute),
        }

    def enter(self, tenant: str) -> Verdict:
        with self._lock:
            minute, day = self._windows(tenant)
            if not self.settings.enabled:
                return Verdict(self._headers(minute, day))
            refused: tuple[str, float] | None = None
            if self._in_flight.get(tenant, 0) >= self.concurrent:
                refused = ("concurrent", 1.0)
            elif day.wait_s() > 0:
                refused = ("day", day.wait_s())
            elif self._app.wait_s() > 0:
                refused = ("appminute", self._app.wait_s())
            elif minute.wait_s() > 0:
                refused = ("minute", minute.wait_s())
            if refused:
                problem, wait = refused
                return Verdict(self._headers(minute, day), problem=problem,
                               retry_after=retry_after_seconds(wait))
            day.try_take()
            self._app.try_take()
            minute.try_take()
            self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
            return Verdict(self._headers(minute, day), release=lambda: self._leave(tenant))

    def _leave(self, tenant: str) -> None:
        with self._lock:
            self._in_flight[tenant] = max(0, self._in_flight.get(tenant, 0) - 1)

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._day.clear()
            self._in_flight.clear()
            self._app.reset()
