"""The CRM connector contract: every promise of `connectors.contract.CrmConnector`, checked against a
vendor's sandbox. A vendor's test module is one line:

    TestHubSpotContract = crm_contract_tests(HubSpotHarness)
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.contract import CrmConnector
from connectors.errors import RateLimited, Unauthorized

from .delta_check import DeltaReader, Editor, assert_every_change_once
from .harness import CrmHarness, unique
from .shared_promises import SharedPromises, assert_readable


def crm_contract_tests(harness_class: type[CrmHarness]) -> type:
    """A pytest test class holding the whole CRM contract for the vendor `harness_class` drives."""

    class CrmContract(SharedPromises):
        @pytest.fixture
        def vendor(self, sandbox):
            sandbox.reset()
            yield sandbox
            sandbox.restore_token()

        @pytest.fixture
        def tight(self):
            harness = harness_class()
            harness.start(tight=True)
            yield harness
            harness.stop()

        def _paced_calls(self, harness: CrmHarness, connector: Any, count: int) -> None:
            ids = harness.create("deals", 2)
            for _ in range(count):
                harness.paced_call(connector, ids)

        def test_the_connector_is_a_crm_connector(self, vendor: CrmHarness) -> None:
            connector = vendor.connector()
            assert isinstance(connector, CrmConnector) and connector.vendor == vendor.vendor

        # ---- 1. delta reads ----------------------------------------------------------------
        @pytest.mark.parametrize("object_type", harness_class.object_types)
        def test_delta_read_survives_records_changed_mid_read(self, vendor: CrmHarness,
                                                              object_type: str) -> None:
            crm = vendor.connector()
            vendor.create(object_type, 4)
            reader = DeltaReader(lambda cursor: crm.search_modified_since(object_type, cursor.at_ms, [],
                                                                          page_size=3),
                                 lambda r: crm.modified_ms(object_type, r), lambda r: r["id"])
            editor = Editor(vendor, object_type)
            reader.run(editor)
            assert editor.phases == [1, 2], "records were not edited mid-read in both phases"
            assert_every_change_once(reader, vendor.changes_since(object_type, 0))

        # ---- 2. batch writes report per item -----------------------------------------------
        @pytest.mark.parametrize("problem", ["unknown id", "invalid value"])
        @pytest.mark.parametrize("object_type", harness_class.object_types)
        def test_batch_update_fails_only_the_bad_item_and_writes_the_rest(
                self, vendor: CrmHarness, object_type: str, problem: str) -> None:
            crm = vendor.connector()
            first, victim, last = vendor.create(object_type, 3)
            name = vendor.writable(object_type)
            values = {first: unique("INV"), last: unique("INV")}
            if problem == "unknown id":
                victim, bad, words = vendor.unknown_id(), {name: unique("INV")}, vendor.unknown_id_words()
            else:
                bad_name, bad_value, words = vendor.invalid_value(object_type)
                bad = {bad_name: bad_value}
                before = vendor.value(object_type, victim, bad_name)
            updates = {first: {name: values[first]}, victim: bad, last: {name: values[last]}}
            results = crm.batch_update(object_type, updates)
            assert [r.key for r in results] == [first, victim, last]
            assert [r.ok for r in results] == [True, False, True], results
            assert results[1].errors and any(words in e for e in results[1].errors), results[1]
            for record_id, value in values.items():
                assert vendor.value(object_type, record_id, name) == value
            if problem == "invalid value":
                assert vendor.value(object_type, victim, bad_name) == before

        # ---- 3. idempotent re-sends ---------------------------------------------------------
        @pytest.mark.parametrize("object_type", harness_class.object_types)
        def test_batch_update_sent_twice_changes_nothing_the_second_time(self, vendor: CrmHarness,
                                                                         object_type: str) -> None:
            crm = vendor.connector()
            ids = vendor.create(object_type, 3)
            name = vendor.writable(object_type)
            updates = {i: {name: unique("INV")} for i in ids}
            assert all(r.ok for r in crm.batch_update(object_type, updates))
            vendor.next_stamp_boundary(max(vendor.changes_since(object_type, 0)[i] for i in ids))
            stamps = {i: vendor.changes_since(object_type, 0)[i] for i in ids}
            count = len(vendor.changes_since(object_type, 0))
            vendor.reset_stats()
            again = crm.batch_update(object_type, updates)
            assert [(r.key, r.ok) for r in again] == [(i, True) for i in ids]
            assert {i: vendor.changes_since(object_type, 0)[i] for i in ids} == stamps
            assert len(vendor.changes_since(object_type, 0)) == count
            if "skips_unchanged_writes" in vendor.capabilities:
                method, path = vendor.write_path(object_type)
                assert vendor.calls_to(path, method) == 0, vendor.stats()["calls"]

        def test_resending_the_same_values_sends_no_write_at_all(self, vendor: CrmHarness) -> None:
            vendor.require("skips_unchanged_writes")
            crm = vendor.connector()
            ids = vendor.create("deals", 4)
            updates = {i: {vendor.writable("deals"): unique("INV")} for i in ids}
            crm.batch_update("deals", updates)
            vendor.reset_stats()
            crm.batch_update("deals", updates)
            assert vendor.stats()["writes"] == 0, vendor.stats()["calls"]

        # ---- 4. rate limits ------------------------------------------------------------------
        def test_429_with_retry_after_is_waited_out_then_the_write_lands_once(self, vendor: CrmHarness) -> None:
            crm = vendor.connector()
            [record_id] = vendor.create("deals", 1)
            name, value = vendor.writable("deals"), unique("INV")
            crm.batch_read("deals", [record_id], [])  # warm: once-per-connector lookups
            method, path = vendor.write_path("deals")
            vendor.reset_stats()
            vendor.fault("rate_limit", path, method, retry_after="1", times=1)
            started = time.monotonic()
            [result] = crm.batch_update("deals", {record_id: {name: value}})
            assert time.monotonic() - started >= 1.0
            assert result.ok and vendor.value("deals", record_id, name) == value
            assert vendor.calls_to(path, method) == 2 and vendor.stats()["rate_limited"] == 1

        # ---- 5. auth -------------------------------------------------------------------------
        def test_a_revoked_token_is_a_typed_unauthorized_with_the_vendor_message(self, vendor: CrmHarness) -> None:
            crm = vendor.connector()
            vendor.revoke_token()
            vendor.reset_stats()
            with pytest.raises(Unauthorized) as caught:
                vendor.read(crm)
            assert caught.value.vendor_message == vendor.revoked_message()
            assert_readable(caught.value, vendor)
            assert vendor.stats()["total"] == 1, "a revoked token is final: no retries"

        # ---- Pipedrive's daily token budget ------------------------------------------------
        def test_a_write_back_the_day_budget_cannot_afford_is_refused_before_any_write(self) -> None:
            """55 tokens a day: the connector's field and deal reads take 20, the write-back's read
            10 more; six PATCHes at 5 would need 30 of the 25 left, two need 10."""
            if "token_budget" not in harness_class.capabilities:
                harness_class().require("token_budget")
            harness = harness_class()
            harness.start(daily_tokens=55)
            try:
                harness.set_limits(True, 1.0)
                crm = harness.connector()
                ids = harness.create("deals", 6)
                name = harness.writable("deals")
                crm.batch_read("deals", ids[:1], [])  # learns what is left from the answer
                updates = {i: {name: unique("INV")} for i in ids}
                method, path = harness.write_path("deals")
                harness.reset_stats()
                with pytest.raises(RateLimited) as caught:
                    crm.batch_update("deals", updates)
                assert caught.value.retry_after and caught.value.retry_after > 0
                assert "25" in str(caught.value) and "30" in str(caught.value)
                assert harness.calls_to(path, method) == 0, "partial work burnt the budget"
                assert all(harness.value("deals", i, name) is None for i in ids)
                affordable = dict(list(updates.items())[:2])
                assert all(r.ok for r in crm.batch_update("deals", affordable))
                assert harness.calls_to(path, method) == 2 and harness.stats()["rate_limited"] == 0
            finally:
                harness.stop()

    CrmContract.__name__ = CrmContract.__qualname__ = f"{harness_class.vendor.title()}CrmContract"
    CrmContract.harness_class = harness_class
    return CrmContract
