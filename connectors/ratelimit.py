"""Client-side rate limiting to each vendor's documented budget, per tenant.

Why client-side: a 429 costs a call, a wait we did not choose, and for Xero's day limit possibly a
whole day; staying inside the budget is cheaper than bouncing off it. Budgets belong to the vendor's
tenant, not to one client object, so limiters live in a process-wide registry keyed by
(vendor, tenant, bucket) and every client for that tenant shares them, across threads.

The algorithm is a sliding-window log (exact for "N calls in any rolling T seconds", which is how
Xero states its minute and day limits) plus a counter for concurrent calls. A call is stamped when
it starts (so calls in flight count) and re-stamped when it ends: the server counts a call when it
arrives, somewhere between the two, so measuring the window from the end keeps us inside the
server's window even when network delays differ from call to call. The server's own
remaining-count headers are folded in with `sync_remaining`, so calls made by other processes on the
same budget slow us down too. Across machines, the lead's plan is Prefect global concurrency limits;
this limiter is the in-process layer underneath.

A small hand-written limiter rather than a library: `pyrate-limiter` would cover the windows, but not
the concurrency slots, header syncing and injectable clock in one sync API; this file stays small.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from connectors.errors import RateLimited

log = logging.getLogger("ledgerlink.http")


@dataclass(frozen=True, slots=True)
class Window:
    """At most `calls` calls in any rolling `seconds`."""

    calls: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RateLimits:
    """One budget: any number of rolling windows and an optional cap on calls in flight."""

    windows: tuple[Window, ...] = ()
    concurrent: int | None = None

    def scaled(self, factor: float) -> "RateLimits":
        """The same budget on a time scale × `factor` (tests use small factors to stay fast)."""
        return RateLimits(tuple(Window(w.calls, w.seconds * factor) for w in self.windows),
                          self.concurrent)


# Budgets per bucket. Calls use "default" unless they name another bucket.
# Xero: 60 calls per rolling minute, 5,000 per day, 5 in flight, per organisation.
XERO_LIMITS: Mapping[str, RateLimits] = {
    "default": RateLimits((Window(60, 60.0), Window(5000, 86_400.0)), concurrent=5),
}


def hubspot_limits(burst: int = 100) -> Mapping[str, RateLimits]:
    """HubSpot private app: `burst` per rolling 10 s (100 Free/Starter, 190 Pro/Enterprise).

    Search has its own budget of 5 requests/s and is exempt from the ten-secondly one (the spec marks
    search operations `x-hubspot-rate-limit-exemptions: ten-secondly`), so it is a separate bucket.
    """
    return {"default": RateLimits((Window(burst, 10.0),)),
            "search": RateLimits((Window(5, 1.0),))}


HUBSPOT_LIMITS = hubspot_limits()


def pipedrive_limits(burst: int = 20) -> Mapping[str, RateLimits]:
    """Pipedrive API token: `burst` requests per rolling 2 s (20 on the smallest plan, up to 120).

    The daily budget is counted in tokens (each operation has its own `x-token-cost`), which a
    call-counting window cannot express; the server's `x-daily-requests-left` and its 429s
    govern that one.
    """
    return {"default": RateLimits((Window(burst, 2.0),))}


PIPEDRIVE_LIMITS = pipedrive_limits()


def quickbooks_limits(per_minute: int = 500, batch_per_minute: int = 40, concurrent: int = 10,
                      batch_share: int = 40, batch_concurrent: int = 2) -> Mapping[str, RateLimits]:
    """QuickBooks Online, per company (realm): 500 requests/minute, 10 in flight per realm and app,
    and the batch endpoint 40/minute. QBO sends no remaining-count headers, so these windows are the
    only pacing there is.

    A call uses exactly one bucket, but the server counts a batch call in its 500/minute as well:
    the "default" bucket keeps `batch_share` calls (and `batch_concurrent` slots) back for the
    "batch" bucket, so both together never pass the realm's 500/minute or its 10 in flight.
    """
    return {"default": RateLimits((Window(per_minute - batch_share, 60.0),),
                                  concurrent=concurrent - batch_concurrent),
            "batch": RateLimits((Window(batch_per_minute, 60.0),), concurrent=batch_concurrent)}


QUICKBOOKS_LIMITS = quickbooks_limits()


@dataclass
class _Log:
    window: Window
    stamps: list[float] = field(default_factory=list)  # sorted


class RateLimiter:
    """Blocks callers until a call fits every window and a concurrency slot is free.

    `clock` and `sleep` are injectable so tests can check the budget on a fake clock.
    """

    def __init__(self, limits: RateLimits, *, name: str = "", vendor: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = limits
        self.name = name
        self.vendor = vendor
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._logs = [_Log(w) for w in limits.windows]
        self._in_flight = 0
        self._paused_until = 0.0

    # -- core -------------------------------------------------------------------------------
    def _prune(self, now: float) -> None:
        for entry in self._logs:
            cut = bisect.bisect_right(entry.stamps, now - entry.window.seconds)
            if cut:
                del entry.stamps[:cut]

    def _delay(self, now: float) -> float:
        """Seconds until one more call fits every window (0 when it fits now)."""
        self._prune(now)
        delay = max(0.0, self._paused_until - now)
        for entry in self._logs:
            excess = len(entry.stamps) - entry.window.calls
            if excess >= 0:
                delay = max(delay, entry.stamps[excess] + entry.window.seconds - now)
        return delay

    def acquire(self, max_wait: float | None = None) -> tuple[float, float]:
        """Take one call from the budget, waiting as needed: (seconds waited, the call's stamp).

        Raises `RateLimited` at once, without sleeping, when the wait would exceed `max_wait`
        (e.g. the Xero day budget is spent: sleeping for hours inside a task helps nobody).
        """
        waited = 0.0
        while True:
            with self._cond:
                cap = self.limits.concurrent
                while cap is not None and self._in_flight >= cap:
                    self._cond.wait(timeout=1.0)
                now = self._clock()
                delay = self._delay(now)
                if delay <= 0:
                    for entry in self._logs:
                        bisect.insort(entry.stamps, now)
                    self._in_flight += 1
                    return waited, now
            if max_wait is not None and waited + delay > max_wait:
                raise RateLimited(self.vendor or "vendor",
                                  f"local {self.name or 'rate'} budget exhausted for "
                                  f"{delay:.0f}s more", retry_after=delay)
            self._sleep(delay)
            waited += delay

    def release(self, stamp: float | None = None) -> None:
        """End a call: free its concurrency slot and move its stamp to now (see module doc)."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            if stamp is not None:
                now = self._clock()
                for entry in self._logs:
                    at = bisect.bisect_left(entry.stamps, stamp)
                    if at < len(entry.stamps) and entry.stamps[at] == stamp:
                        del entry.stamps[at]
                        bisect.insort(entry.stamps, now)
            self._cond.notify()

    @contextmanager
    def slot(self, max_wait: float | None = None) -> Iterator[float]:
        """`with limiter.slot() as waited: send()` — one call, counted from start to end."""
        waited, stamp = self.acquire(max_wait)
        try:
            yield waited
        finally:
            self.release(stamp)

    # -- feedback from the server -------------------------------------------------------------
    def pause(self, seconds: float) -> None:
        """Nobody on this budget calls for `seconds` (a 429 with Retry-After applies to all)."""
        if seconds > 0:
            with self._cond:
                self._paused_until = max(self._paused_until, self._clock() + seconds)

    def sync_remaining(self, window_seconds: float, remaining: int) -> None:
        """Fold in the server's count for the window of that length.

        When the server has seen more calls than we have (other processes, other apps on the same
        budget), pad our log with calls stamped now, so we pace to the server's view. Never
        loosens: a larger server count than ours changes nothing.
        """
        with self._cond:
            now = self._clock()
            self._prune(now)
            for entry in self._logs:
                if abs(entry.window.seconds - window_seconds) > 1e-6:
                    continue
                ours = entry.window.calls - len(entry.stamps)
                missing = min(ours - max(remaining, 0), entry.window.calls)
                if missing > 0:
                    for _ in range(missing):
                        bisect.insort(entry.stamps, now)
                    log.debug("rate budget %s synced to server: %d remaining in %ss window",
                              self.name, remaining, window_seconds)

    def in_window(self, window_seconds: float) -> int:
        """Calls counted in the window of that length right now (for tests and diagnostics)."""
        with self._cond:
            self._prune(self._clock())
            for entry in self._logs:
                if abs(entry.window.seconds - window_seconds) <= 1e-6:
                    return len(entry.stamps)
        return 0


class LimiterRegistry:
    """Process-wide home of limiters so every client of one tenant shares one budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[tuple[str, str, str], RateLimiter] = {}

    def get(self, vendor: str, tenant: str, bucket: str, limits: RateLimits, *,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> RateLimiter:
        key = (vendor, tenant, bucket)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = RateLimiter(limits, name=f"{vendor}/{bucket}", vendor=vendor,
                                      clock=clock, sleep=sleep)
                self._limiters[key] = limiter
            elif limiter.limits != limits:
                log.warning("rate budget %s/%s already configured differently; sharing the "
                            "existing one", vendor, bucket)
            return limiter

    def clear(self) -> None:
        with self._lock:
            self._limiters.clear()


REGISTRY = LimiterRegistry()
