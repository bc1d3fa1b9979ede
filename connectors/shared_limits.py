"""Vendor budgets shared by every worker: Prefect global concurrency limits keyed by vendor and tenant.

The in-process limiter (connectors.ratelimit) keeps one process inside a budget, and the vendor's
remaining-count headers slow it when others spend the same budget, but two workers can still start
calls at the same instant. With `shared_limits: true` on a tenant, every call first takes a slot from
the Prefect server:
- a *rate* limit per window, a token bucket sized so it can never allow more than the window's calls
  in any rolling window (capacity half the calls; a full bucket plus a window's refill is 80 % of
  the budget);
- a *concurrency* limit for calls in flight (Xero's 5).
Then the local limiter runs as before. The day window stays with the local limiter and the headers.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

from connectors.ratelimit import RateLimiter, RateLimits


def limit_names(vendor: str, tenant: str, bucket: str) -> tuple[str, str]:
    base = f"{vendor}-{tenant}-{bucket}"
    return f"{base}-rate", f"{base}-in-flight"


def bucket_shape(limits: RateLimits, margin: float = 0.8) -> tuple[int, float] | None:
    """(capacity, refill per second) of the token bucket for the shortest window, or None.

    A full bucket plus one window's refill stays under the window's calls by `margin`: the vendor
    counts a call when it arrives, which network delays move a little from when its slot was taken.
    """
    if not limits.windows:
        return None
    window = min(limits.windows, key=lambda w: w.seconds)
    capacity = max(1, window.calls // 2)
    return capacity, (window.calls * margin - capacity) / window.seconds


class SharedLimiter:
    """A RateLimiter that first takes the Prefect server's slots; everything else is the local one's."""

    def __init__(self, local: RateLimiter, vendor: str, tenant: str, bucket: str) -> None:
        self.local = local
        self.rate_name, self.in_flight_name = limit_names(vendor, tenant, bucket)
        self.shape = bucket_shape(local.limits)

    def ensure_limits(self) -> None:
        """Create or correct the two limits on the server (idempotent; run when a context is built)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
        from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

        wanted = []
        if self.shape:
            wanted.append((self.rate_name, self.shape[0], self.shape[1]))
        if self.local.limits.concurrent:
            wanted.append((self.in_flight_name, self.local.limits.concurrent, 0.0))
        with get_client(sync_client=True) as client:
            for name, limit, decay in wanted:
                try:
                    current = client.read_global_concurrency_limit_by_name(name)
                    if (current.limit, current.slot_decay_per_second or 0.0) != (limit, decay):
                        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(
                            limit=limit, slot_decay_per_second=decay, active=True))
                except ObjectNotFound:
                    try:
                        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(
                            name=name, limit=limit, slot_decay_per_second=decay, active=True))
                    except ObjectAlreadyExists:
                        pass  # another worker created it a moment ago, with the same shape

    @contextmanager
    def slot(self, max_wait: float | None = None) -> Iterator[float]:
        from prefect.concurrency.sync import concurrency, rate_limit

        with ExitStack() as stack:
            if self.shape:
                rate_limit(self.rate_name, occupy=1, timeout_seconds=max_wait, strict=True)
            if self.local.limits.concurrent:
                stack.enter_context(concurrency(self.in_flight_name, occupy=1, timeout_seconds=max_wait,
                                                strict=True))
            with self.local.slot(max_wait) as waited:
                yield waited

    def __getattr__(self, name: str):
        return getattr(self.local, name)  # pause, sync_remaining, in_window, limits


def share_across_workers(http) -> None:
    """Put every limiter of a VendorHttpClient behind the Prefect server's limits."""
    http.wrap_limiters(lambda bucket, limiter: _shared(limiter, http.vendor, http.tenant, bucket))


def _shared(limiter: RateLimiter, vendor: str, tenant: str, bucket: str) -> SharedLimiter:
    shared = SharedLimiter(limiter, vendor, tenant, bucket)
    shared.ensure_limits()
    return shared
