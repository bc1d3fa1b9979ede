"""Retry behaviour of the shared HTTP client against a real local HTTP server."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from connectors.errors import (BadResponse, Forbidden, NetworkError, NotFound, RateLimited,
                               ServerError, Unauthorized, UncertainWrite, ValidationRejected)
from connectors.http import RetryPolicy, VendorHttpClient, parse_retry_after
from connectors.oauth import BearerAuth

from connector_testkit import Step

FAST = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05, max_total_wait=5)


def make_client(url: str, sleeps: list[float] | None = None, policy: RetryPolicy = FAST,
                **kw) -> VendorHttpClient:
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return VendorHttpClient("testvendor", url, tenant="t1", auth=BearerAuth("tok-abcdef"),
                            retry=policy, sleep=record, rng=random.Random(7),
                            timeout=httpx.Timeout(2.0, read=0.3), **kw)


# -- reads -------------------------------------------------------------------------------------
def test_get_is_retried_after_5xx_until_it_succeeds(server):
    server.script("/things", Step(503), Step(502), Step(200, {"ok": 1}))
    with make_client(server.url) as client:
        reply = client.get("/things")
    assert reply.body == {"ok": 1}
    assert len(server.calls("/things")) == 3
    stats = client.stats.snapshot()
    assert stats["retries"] == 2 and stats["server_errors"] == 2 and stats["calls"] == 3


def test_get_gives_up_with_server_error_after_max_attempts(server):
    server.always("/down", lambda seen: Step(500, {"message": "boom"}))
    with make_client(server.url) as client, pytest.raises(ServerError) as err:
        client.get("/down")
    assert len(server.calls("/down")) == FAST.max_attempts
    assert "boom" in str(err.value)


def test_get_read_timeout_is_retried(server):
    server.script("/slow", Step(delay=0.6), Step(200, {"ok": True}))
    with make_client(server.url) as client:
        assert client.get("/slow").body == {"ok": True}
    assert client.stats.snapshot()["network_errors"] == 1


def test_post_marked_read_is_retried_like_a_get(server):
    server.script("/search", Step(502), Step(200, {"results": []}))
    with make_client(server.url) as client:
        client.post("/search", json_body={"q": 1}, read=True)
    assert len(server.calls("/search")) == 2


# -- Retry-After -------------------------------------------------------------------------------
def test_retry_after_seconds_is_honoured(server):
    sleeps: list[float] = []
    server.script("/r", Step(429, headers={"Retry-After": "3"}), Step(200))
    with make_client(server.url, sleeps) as client:
        client.get("/r")
    assert sleeps == [3.0]
    assert client.stats.snapshot()["rate_limited"] == 1


def test_retry_after_http_date_is_honoured(server):
    sleeps: list[float] = []
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=4), usegmt=True)
    server.script("/r", Step(429, headers={"Retry-After": when}), Step(200))
    with make_client(server.url, sleeps) as client:
        client.get("/r")
    assert len(sleeps) == 1 and 2.0 < sleeps[0] <= 4.0


@pytest.mark.parametrize("value", ["0", "-5", "soon", ""])
def test_retry_after_zero_negative_or_garbage_means_backoff(server, value):
    sleeps: list[float] = []
    server.script("/r", Step(429, headers={"Retry-After": value}), Step(200))
    with make_client(server.url, sleeps) as client:
        client.get("/r")
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= FAST.backoff_base


def test_retry_after_longer_than_total_budget_gives_up_with_the_hint(server):
    server.always("/r", lambda s: Step(429, {"message": "day limit"},
                                       headers={"Retry-After": "3600"}))
    with make_client(server.url) as client, pytest.raises(RateLimited) as err:
        client.get("/r")
    assert err.value.retry_after == 3600
    assert len(server.calls("/r")) == 1


@pytest.mark.parametrize("value,expected", [("7", 7.0), ("1.5", 1.5), ("0", None),
                                            ("-1", None), ("nan", None), (None, None),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_future_date():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0


# -- writes ------------------------------------------------------------------------------------
def test_write_answered_5xx_raises_uncertain_write_and_is_not_resent(server):
    server.script("/Invoices", Step(500, {"Message": "internal"}))
    with make_client(server.url) as client, pytest.raises(UncertainWrite) as err:
        client.put("/Invoices", json_body={"Invoices": []}, idempotency_key="key-1")
    assert len(server.calls("/Invoices")) == 1
    assert err.value.idempotency_key == "key-1" and err.value.method == "PUT"
    assert err.value.path == "/Invoices" and err.value.status == 500
    assert client.stats.snapshot()["uncertain_writes"] == 1


def test_write_read_timeout_raises_uncertain_write_and_is_not_resent(server):
    server.script("/Invoices", Step(delay=0.6))
    with make_client(server.url) as client, pytest.raises(UncertainWrite) as err:
        client.put("/Invoices", json_body={}, idempotency_key="key-2")
    assert err.value.cause == "ReadTimeout"
    assert len(server.calls("/Invoices")) == 1


def test_write_dropped_connection_raises_uncertain_write(server):
    server.script("/Invoices", Step(drop=True))
    with make_client(server.url) as client, pytest.raises(UncertainWrite):
        client.post("/Invoices", json_body={})
    assert len(server.calls("/Invoices")) == 1


def test_write_answered_429_is_retried_with_the_same_idempotency_key(server):
    sleeps: list[float] = []
    server.script("/Invoices", Step(429, headers={"Retry-After": "1"}), Step(200, {"Invoices": []}))
    with make_client(server.url, sleeps) as client:
        client.put("/Invoices", json_body={}, idempotency_key="key-3")
    keys = [c.headers["idempotency-key"] for c in server.calls("/Invoices")]
    assert keys == ["key-3", "key-3"] and sleeps == [1.0]


def test_write_503_is_retried_only_when_the_caller_marks_it_safe(server):
    server.script("/a", Step(503), Step(200))
    with make_client(server.url) as client:
        client.post("/a", json_body={}, safe_503=True)
        assert len(server.calls("/a")) == 2
        server.script("/b", Step(503), Step(200))
        with pytest.raises(UncertainWrite):
            client.post("/b", json_body={})
    assert len(server.calls("/b")) == 1


def test_write_that_never_connected_is_retried_and_not_uncertain(closed_port):
    with make_client(f"http://127.0.0.1:{closed_port}") as client, \
            pytest.raises(NetworkError) as err:
        client.put("/Invoices", json_body={}, idempotency_key="k")
    assert not isinstance(err.value, UncertainWrite)
    stats = client.stats.snapshot()
    assert stats["network_errors"] == FAST.max_attempts and stats["uncertain_writes"] == 0


def test_write_with_unreadable_2xx_is_uncertain(server):
    server.script("/Invoices", Step(200, "<html>gateway</html>", content_type="text/html"))
    with make_client(server.url) as client, pytest.raises(UncertainWrite):
        client.put("/Invoices", json_body={})


# -- backoff bounds (pure timing: mock transport) ---------------------------------------------
def test_backoff_is_full_jitter_and_bounded():
    policy = RetryPolicy(max_attempts=6, backoff_base=0.5, backoff_max=2.0, max_total_wait=100)
    sleeps: list[float] = []
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    client = VendorHttpClient("v", "http://mock", tenant="t", auth=BearerAuth("x"), retry=policy,
                              sleep=sleeps.append, rng=random.Random(1), transport=transport)
    with pytest.raises(ServerError):
        client.get("/x")
    assert len(sleeps) == 5
    for attempt, slept in enumerate(sleeps, start=1):
        assert 0 <= slept <= min(2.0, 0.5 * 2 ** (attempt - 1))
    assert len(set(sleeps)) == 5  # jittered, not a fixed ladder


def test_total_wait_is_bounded():
    policy = RetryPolicy(max_attempts=50, backoff_base=1.0, backoff_max=1.0, max_total_wait=3.0)
    sleeps: list[float] = []
    transport = httpx.MockTransport(lambda request: httpx.Response(
        429, headers={"Retry-After": "1"}))
    client = VendorHttpClient("v", "http://mock", tenant="t", auth=BearerAuth("x"), retry=policy,
                              sleep=sleeps.append, transport=transport)
    with pytest.raises(RateLimited):
        client.get("/x")
    assert sum(sleeps) <= 3.0 and len(sleeps) == 3


# -- typed errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("status,error", [(400, ValidationRejected), (401, Unauthorized),
                                          (403, Forbidden), (404, NotFound)])
def test_client_errors_are_typed_and_carry_the_vendor_message(server, status, error):
    body = {"status": "error", "message": "Property values were not valid",
            "correlationId": "c0ffee00-1111-2222-3333-444455556666", "category": "X"}
    server.script("/e", Step(status, body))
    with make_client(server.url) as client, pytest.raises(error) as err:
        client.get("/e")
    line = str(err.value)
    assert "Property values were not valid" in line and "c0ffee00" in line
    assert "\n" not in line and err.value.status == status
    assert len(server.calls("/e")) == 1  # never retried


def test_xero_validation_elements_are_in_the_message(server):
    body = {"ErrorNumber": 10, "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": "Email address must be valid."}]}]}
    server.script("/Contacts", Step(400, body))
    with make_client(server.url) as client, pytest.raises(ValidationRejected) as err:
        client.put("/Contacts", json_body={})
    assert "Email address must be valid." in str(err.value)


@pytest.mark.parametrize("body,ctype", [("{not json", "application/json"),
                                        ("<html>oops</html>", "text/html")])
def test_malformed_json_on_a_read_raises_bad_response(server, body, ctype):
    server.script("/m", Step(200, body, content_type=ctype))
    with make_client(server.url) as client, pytest.raises(BadResponse) as err:
        client.get("/m")
    assert err.value.raw.startswith(body[:5])


def test_bad_response_keeps_only_the_start_of_the_raw_text(server):
    server.script("/m", Step(200, "x" * 5000, content_type="text/plain"))
    with make_client(server.url) as client, pytest.raises(BadResponse) as err:
        client.get("/m")
    assert len(err.value.raw) <= 200
