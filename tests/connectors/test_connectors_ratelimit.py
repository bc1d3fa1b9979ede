"""The client-side limiter keeps calls inside each vendor's budget (measured on a fake clock)."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.errors import RateLimited
from connectors.http import RetryPolicy, VendorHttpClient
from connectors.hubspot import hubspot_pacer
from connectors.oauth import BearerAuth
from connectors.ratelimit import (HUBSPOT_LIMITS, XERO_LIMITS, LimiterRegistry, RateLimiter,
                                  RateLimits, Window, hubspot_limits)
from connectors.xero import xero_pacer

from connector_testkit import Step


def max_in_any_window(stamps: list[float], seconds: float) -> int:
    """The most calls that fall in any half-open window [t, t + seconds)."""
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def run_calls(limiter: RateLimiter, clock, count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        with limiter.slot():
            stamps.append(clock())
    return stamps


def test_xero_budget_allows_60_per_rolling_minute(clock):
    limiter = RateLimiter(XERO_LIMITS["default"], clock=clock, sleep=clock.sleep)
    stamps = run_calls(limiter, clock, 200)
    assert max_in_any_window(stamps, 60.0) == 60
    assert stamps[-1] - stamps[0] == pytest.approx(180.0)  # 200 calls = 3 full windows + 20


def test_xero_day_budget_is_5000(clock):
    limits = RateLimits((Window(5000, 86_400.0),))
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    stamps = run_calls(limiter, clock, 5001)
    assert stamps[5000] - stamps[0] == pytest.approx(86_400.0)


@pytest.mark.parametrize("burst", [100, 190])
def test_hubspot_burst_budget_per_ten_seconds(clock, burst):
    limiter = RateLimiter(hubspot_limits(burst)["default"], clock=clock, sleep=clock.sleep)
    stamps = run_calls(limiter, clock, burst * 3)
    assert max_in_any_window(stamps, 10.0) == burst


def test_hubspot_search_budget_is_five_per_second(clock):
    limiter = RateLimiter(HUBSPOT_LIMITS["search"], clock=clock, sleep=clock.sleep)
    stamps = run_calls(limiter, clock, 23)
    assert max_in_any_window(stamps, 1.0) == 5


def test_concurrent_calls_never_exceed_the_cap():
    limiter = RateLimiter(RateLimits(concurrent=5))
    in_flight, peak, lock = 0, 0, threading.Lock()

    def call() -> None:
        nonlocal in_flight, peak
        with limiter.slot():
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.01)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 5


def test_limiter_is_thread_safe_under_the_window_budget(clock):
    limiter = RateLimiter(RateLimits((Window(10, 1.0),)), clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        for _ in range(10):
            with limiter.slot():
                with lock:
                    stamps.append(clock())

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 60
    # Fake-clock sleeps from several threads can overlap, so only the budget is checked.
    assert max_in_any_window(sorted(stamps), 1.0) <= 10


def test_wait_longer_than_allowed_raises_rate_limited_without_sleeping(clock):
    limiter = RateLimiter(RateLimits((Window(2, 3600.0),)), clock=clock, sleep=clock.sleep)
    run_calls(limiter, clock, 2)
    with pytest.raises(RateLimited) as err:
        limiter.acquire(max_wait=60)
    assert err.value.retry_after == pytest.approx(3600.0)
    assert clock.sleeps == []


def test_pause_holds_every_caller_on_the_budget(clock):
    limiter = RateLimiter(RateLimits((Window(100, 10.0),)), clock=clock, sleep=clock.sleep)
    limiter.pause(7.0)
    assert limiter.acquire()[0] == pytest.approx(7.0)


def test_server_remaining_count_slows_us_down(clock):
    limiter = RateLimiter(RateLimits((Window(60, 60.0),)), clock=clock, sleep=clock.sleep)
    run_calls(limiter, clock, 10)
    limiter.sync_remaining(60.0, 0)  # someone else spent the rest of the minute
    assert limiter.in_window(60.0) == 60
    waited, _ = limiter.acquire()
    assert waited == pytest.approx(60.0)


def test_server_remaining_count_never_loosens_our_budget(clock):
    limiter = RateLimiter(RateLimits((Window(5, 60.0),)), clock=clock, sleep=clock.sleep)
    run_calls(limiter, clock, 5)
    limiter.sync_remaining(60.0, 50)
    assert limiter.in_window(60.0) == 5


def test_clients_of_one_tenant_share_one_budget():
    registry = LimiterRegistry()
    one = VendorHttpClient("xero", "http://x", tenant="acme", auth=BearerAuth("t"),
                           limits=XERO_LIMITS, registry=registry)
    two = VendorHttpClient("xero", "http://x", tenant="acme", auth=BearerAuth("t"),
                           limits=XERO_LIMITS, registry=registry)
    other = VendorHttpClient("xero", "http://x", tenant="globex", auth=BearerAuth("t"),
                             limits=XERO_LIMITS, registry=registry)
    assert one.limiter() is two.limiter()
    assert one.limiter() is not other.limiter()
    assert VendorHttpClient("xero", "http://x", tenant="acme", auth=BearerAuth("t"),
                            limits=None).limiter() is None  # disabled for benchmarks


def test_client_keeps_real_http_calls_within_budget(server, clock):
    """130 real calls through the client on a fake clock: never more than 60 in a minute."""
    registry = LimiterRegistry()
    registry.get("xero", "acme", "default", XERO_LIMITS["default"], clock=clock,
                 sleep=clock.sleep)
    server.clock = clock
    client = VendorHttpClient("xero", server.url, tenant="acme", auth=BearerAuth("t"),
                              limits=XERO_LIMITS, registry=registry, pacer=xero_pacer)
    with client:
        for _ in range(130):
            client.get("/Organisation")
    stamps = [seen.at for seen in server.calls("/Organisation")]
    assert len(stamps) == 130
    assert max_in_any_window(stamps, 60.0) == 60


def test_client_paces_from_xero_headers_instead_of_hitting_429(server, clock):
    registry = LimiterRegistry()
    registry.get("xero", "acme", "default", XERO_LIMITS["default"], clock=clock,
                 sleep=clock.sleep)
    server.clock = clock
    server.script("/Contacts", Step(200, {}, headers={"X-MinLimit-Remaining": "0",
                                                       "X-DayLimit-Remaining": "4000"}))
    client = VendorHttpClient("xero", server.url, tenant="acme", auth=BearerAuth("t"),
                              limits=XERO_LIMITS, registry=registry, pacer=xero_pacer)
    with client:
        client.get("/Contacts")
        client.get("/Contacts")
    first, second = (seen.at for seen in server.calls("/Contacts"))
    assert second - first == pytest.approx(60.0)
    assert client.limiter().in_window(86_400.0) == 1001  # 5000 - 4000 from the header, +1


def test_client_paces_from_hubspot_headers(server, clock):
    registry = LimiterRegistry()
    registry.get("hubspot", "acme", "default", HUBSPOT_LIMITS["default"], clock=clock,
                 sleep=clock.sleep)
    server.clock = clock
    server.script("/crm", Step(200, {}, headers={
        "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}))
    client = VendorHttpClient("hubspot", server.url, tenant="acme", auth=BearerAuth("t"),
                              limits=HUBSPOT_LIMITS, registry=registry, pacer=hubspot_pacer,
                              retry=RetryPolicy(max_total_wait=30))
    with client:
        client.get("/crm/v3/objects/deals")
        client.get("/crm/v3/objects/deals")
    first, second = (seen.at for seen in server.calls("/crm"))
    assert second - first == pytest.approx(10.0)


def test_server_429_pauses_the_shared_budget(server, clock):
    registry = LimiterRegistry()
    registry.get("xero", "acme", "default", XERO_LIMITS["default"], clock=clock,
                 sleep=clock.sleep)
    server.clock = clock
    server.script("/Invoices", Step(429, {}, headers={"Retry-After": "5"}))
    client = VendorHttpClient("xero", server.url, tenant="acme", auth=BearerAuth("t"),
                              limits=XERO_LIMITS, registry=registry, sleep=clock.sleep)
    with client:
        client.get("/Invoices")
    first, second = (seen.at for seen in server.calls("/Invoices"))
    assert second - first == pytest.approx(5.0)  # one wait, not retry sleep + limiter pause
