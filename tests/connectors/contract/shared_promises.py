"""Promises every connector keeps, CRM or accounting: how it meets throttling, error bodies and
answers it cannot read. Mixed into the classes `crm_suite` and `accounting_suite` build.

Faults are injected at the sandbox (`/_sandbox/faults`), aimed at the path of one small read
(`harness.read`); the sandbox's own counters tell how often the connector really called.
"""

from __future__ import annotations

import time

import pytest

from connectors.errors import (BadResponse, NotFound, RateLimited, ServerError, ValidationRejected,
                               VendorError)

from .harness import FAST_RETRY, VendorHarness

TYPED = {400: ValidationRejected, 404: NotFound, 409: ValidationRejected, 500: ServerError,
         503: ServerError}


def assert_readable(err: VendorError, harness: VendorHarness) -> None:
    """One line a person can read, carrying the vendor's words and none of the credentials."""
    line = str(err)
    assert "\n" not in line and line.startswith(harness.vendor), line
    if err.vendor_message:
        assert err.vendor_message in line
    for secret in harness.secrets():
        assert secret not in line and secret not in repr(err.args)


class SharedPromises:
    """Tests that take the fixture `vendor` (a started, reset harness) and `tight` (a harness
    whose sandbox has tiny budgets). A contract class names its vendor's harness class in
    `harness_class`; one started sandbox serves the whole class."""

    harness_class: type[VendorHarness]

    @pytest.fixture(scope="class")
    @classmethod
    def sandbox(cls):
        harness = cls.harness_class()
        harness.start()
        yield harness
        harness.stop()

    # ---- 4. rate limits --------------------------------------------------------------------
    @pytest.mark.parametrize("retry_after", ["0", None], ids=["retry-after-0", "no-retry-after"])
    def test_429_without_a_usable_wait_backs_off_and_stops_after_the_policy_attempts(
            self, vendor: VendorHarness, retry_after: str | None) -> None:
        connector = vendor.connector()
        vendor.read(connector)  # warm: lookups a connector makes once are not under test
        vendor.reset_stats()
        vendor.fault("rate_limit", vendor.read_path, retry_after=retry_after, times=None)
        started = time.monotonic()
        with pytest.raises(RateLimited) as caught:
            vendor.read(connector)
        waited = time.monotonic() - started
        assert vendor.calls_to(vendor.read_path) == FAST_RETRY.max_attempts  # bounded: no storm
        assert connector.stats.snapshot()["retries"] == FAST_RETRY.max_attempts - 1
        assert waited >= 0.01, f"{FAST_RETRY.max_attempts} attempts in {waited:.4f}s: no backoff"
        assert_readable(caught.value, vendor)

    def test_429_then_success_after_backoff_reads_normally(self, vendor: VendorHarness) -> None:
        connector = vendor.connector()
        vendor.read(connector)
        vendor.reset_stats()
        expected = vendor.read(connector)
        calls = vendor.calls_to(vendor.read_path)  # a read may take several calls
        vendor.reset_stats()
        vendor.fault("rate_limit", vendor.read_path, retry_after="0", times=2)
        assert vendor.read(connector) == expected
        assert vendor.calls_to(vendor.read_path) == calls + 2
        assert vendor.stats()["rate_limited"] == 2

    def test_burst_is_paced_from_the_remaining_count_headers(self, tight: VendorHarness) -> None:
        """The sandbox allows far fewer calls than the client's configured budget (other apps share
        it, or a smaller plan): only the server's remaining-count headers can keep it out of 429s."""
        tight.require("remaining_headers")
        self._assert_paced_burst(tight)

    def _assert_paced_burst(self, tight: VendorHarness, calls: int = 24) -> None:
        scale = tight.time_scale
        tight.set_limits(True, scale)
        statuses = [tight.raw_call() for _ in range(calls)]
        assert 429 in statuses, "the sandbox budget is not tight enough to prove anything"
        tight.set_limits(True, scale)  # fresh windows
        connector = tight.connector(limits=tight.client_budget(scale))
        self._paced_calls(tight, connector, 1)  # warm: once-per-connector lookups
        tight.set_limits(True, scale)
        tight.reset_stats()
        self._paced_calls(tight, connector, calls)
        assert tight.stats()["rate_limited"] <= 1, tight.stats()
        assert tight.stats()["total"] >= calls

    def _paced_calls(self, harness: VendorHarness, connector: object, count: int) -> None:
        raise NotImplementedError

    # ---- 6. errors -------------------------------------------------------------------------
    @pytest.mark.parametrize("status", sorted(TYPED))
    def test_error_status_becomes_a_typed_error_with_the_vendor_message(
            self, vendor: VendorHarness, status: int) -> None:
        connector = vendor.connector()
        vendor.read(connector)
        vendor.reset_stats()
        vendor.fault("status", vendor.read_path, status=status, times=None)
        with pytest.raises(TYPED[status]) as caught:
            vendor.read(connector)
        err = caught.value
        assert err.status == status
        assert err.vendor_message == vendor.error_message(status)
        assert_readable(err, vendor)
        retried = status >= 500
        assert vendor.calls_to(vendor.read_path) == (FAST_RETRY.max_attempts if retried else 1)

    @pytest.mark.parametrize("kind", ["malformed_json", "wrong_content_type"])
    def test_an_answer_that_is_not_json_becomes_bad_response(self, vendor: VendorHarness,
                                                             kind: str) -> None:
        connector = vendor.connector()
        vendor.read(connector)
        vendor.reset_stats()
        vendor.fault(kind, vendor.read_path, times=None)
        with pytest.raises(BadResponse) as caught:
            vendor.read(connector)
        assert caught.value.status == 200 and caught.value.raw
        assert_readable(caught.value, vendor)
