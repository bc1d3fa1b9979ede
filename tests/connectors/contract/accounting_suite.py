"""The accounting connector contract: every promise of `connectors.contract.AccountingConnector`,
checked against a vendor's sandbox. A vendor's test module is one line:

    TestXeroContract = accounting_contract_tests(XeroHarness)
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.contract import AccountingConnector
from connectors.errors import UncertainWrite
from ledgerlink.timestamps import epoch_ms

from .delta_check import DeltaReader, Editor, assert_every_change_once
from .harness import AccountingHarness, unique
from .shared_promises import SharedPromises

READS = {"invoices": lambda a, cursor: a.invoices_modified_since(cursor.since, page_size=3),
         "contacts": lambda a, cursor: a.contacts_modified_since(cursor.since, page_size=3),
         "payments": lambda a, cursor: a.payments_modified_since(cursor.since)}  # no page size in the protocol


def accounting_contract_tests(harness_class: type[AccountingHarness]) -> type:
    """A pytest test class holding the whole accounting contract for `harness_class`'s vendor."""

    class AccountingContract(SharedPromises):
        @pytest.fixture
        def vendor(self, sandbox):
            sandbox.reset()
            yield sandbox

        @pytest.fixture
        def tight(self):
            harness = harness_class()
            harness.start(tight=True)
            yield harness
            harness.stop()

        def _paced_calls(self, harness: AccountingHarness, connector: Any, count: int) -> None:
            for _ in range(count):
                harness.paced_call(connector)

        @staticmethod
        def _valid(vendor: AccountingHarness, acct: Any, kind: str, count: int) -> tuple[list[str], Any, list[Any]]:
            """(our keys, the create method, the items) for `count` valid `kind` records."""
            if kind == "invoices":
                customer = vendor.customer()
                invoices = [vendor.invoice(customer) for _ in range(count)]
                return [i.reference for i in invoices], acct.create_invoices, invoices
            parties = [vendor.party() for _ in range(count)]
            return [p.crm_id for p in parties], acct.create_contacts, parties

        @staticmethod
        def _find(acct: Any, kind: str, keys: list[str]) -> dict[str, Any]:
            if kind == "invoices":
                return acct.find_invoices_by_reference(keys)
            return acct.find_contacts_by_crm_id(keys)

        def test_the_connector_is_an_accounting_connector(self, vendor: AccountingHarness) -> None:
            connector = vendor.connector()
            assert isinstance(connector, AccountingConnector) and connector.vendor == vendor.vendor

        # ---- 1. delta reads ----------------------------------------------------------------
        @pytest.mark.parametrize("kind", harness_class.kinds)
        def test_delta_read_survives_records_changed_mid_read(self, vendor: AccountingHarness, kind: str) -> None:
            if kind == "payments":
                vendor.require("payments")
            acct = vendor.connector()
            vendor.create(kind, 4)
            reader = DeltaReader(lambda cursor: READS[kind](acct, cursor), lambda r: epoch_ms(r.updated_at),
                                 lambda r: r.id)
            editor = Editor(vendor, kind, edit_after=1 if kind == "payments" else 2)  # payments: one page a read
            reader.run(editor)
            assert editor.phases == [1, 2], "records were not edited mid-read in both phases"
            assert_every_change_once(reader, vendor.changes_since(kind, 0))

        # ---- 2. batch writes report per item -----------------------------------------------
        def test_create_invoices_reports_each_invoice_in_input_order(self, vendor: AccountingHarness) -> None:
            acct = vendor.connector()
            customer = vendor.customer()
            first, last = vendor.invoice(customer), vendor.invoice(customer)
            bad, words = vendor.rejected_invoice(customer)
            before = vendor.count("invoices")
            results = acct.create_invoices([first, bad, last], unique("batch"))
            assert [r.key for r in results] == [first.reference, bad.reference, last.reference]
            assert [r.ok for r in results] == [True, False, True], results
            assert any(words in e for e in results[1].errors), results[1]
            assert all(r.target_id and r.number for r in (results[0], results[2]))
            assert vendor.count("invoices") == before + 2
            found = acct.find_invoices_by_reference([first.reference, bad.reference, last.reference])
            assert {ref: inv.id for ref, inv in found.items()} == {
                first.reference: results[0].target_id, last.reference: results[2].target_id}

        def test_create_contacts_reports_each_contact_in_input_order(self, vendor: AccountingHarness) -> None:
            acct = vendor.connector()
            first, last = vendor.party(), vendor.party()
            bad, words = vendor.rejected_party()
            before = vendor.count("contacts")
            results = acct.create_contacts([first, bad, last], unique("batch"))
            assert [r.key for r in results] == [first.crm_id, bad.crm_id, last.crm_id]
            assert [r.ok for r in results] == [True, False, True], results
            assert any(words in e for e in results[1].errors), results[1]
            assert vendor.count("contacts") == before + 2
            found = acct.find_contacts_by_crm_id([first.crm_id, bad.crm_id, last.crm_id])
            assert {crm: c.id for crm, c in found.items()} == {
                first.crm_id: results[0].target_id, last.crm_id: results[2].target_id}

        # ---- 3. idempotent re-sends ---------------------------------------------------------
        @pytest.mark.parametrize("kind", ["invoices", "contacts"])
        def test_the_same_create_sent_twice_with_one_key_creates_nothing_new(
                self, vendor: AccountingHarness, kind: str) -> None:
            vendor.require("idempotency_key")
            acct = vendor.connector()
            keys, create, items = self._valid(vendor, acct, kind, 2)
            key = unique("key")
            first = create(items, key)
            assert [r.key for r in first] == keys and all(r.ok for r in first), first
            count = vendor.count(kind)
            second = create(items, key)
            assert vendor.count(kind) == count
            assert [(r.key, r.ok, r.target_id) for r in second] == [(r.key, r.ok, r.target_id) for r in first]

        @pytest.mark.parametrize("kind", ["invoices", "contacts"])
        def test_a_create_committed_then_lost_raises_uncertain_write_and_is_found_by_lookup(
                self, vendor: AccountingHarness, kind: str) -> None:
            acct = vendor.connector()
            method, path = vendor.write_path(kind)
            keys, create, items = self._valid(vendor, acct, kind, 2)
            before = vendor.count(kind)
            vendor.reset_stats()
            vendor.fault("commit_then_fail", path, method, times=1)
            with pytest.raises(UncertainWrite):
                create(items, unique("key"))
            assert vendor.calls_to(path, method) == 1, "an uncertain write was sent again blindly"
            assert vendor.count(kind) == before + 2  # the sandbox did commit them
            found = self._find(acct, kind, keys)
            assert set(found) == set(keys) and all(record.id for record in found.values())

        # ---- 4. rate limits ------------------------------------------------------------------
        def test_429_with_retry_after_is_waited_out_then_the_create_lands_once(
                self, vendor: AccountingHarness) -> None:
            acct = vendor.connector()
            method, path = vendor.write_path("contacts")
            party, before = vendor.party(), vendor.count("contacts")
            vendor.fault("rate_limit", path, method, retry_after="1", times=1)
            started = time.monotonic()
            [result] = acct.create_contacts([party], unique("key"))
            assert time.monotonic() - started >= 1.0
            assert result.ok and vendor.count("contacts") == before + 1
            assert vendor.calls_to(path, method) == 2 and vendor.stats()["rate_limited"] == 1

        def test_burst_without_budget_headers_is_paced_from_the_documented_budget(
                self, tight: AccountingHarness) -> None:
            if "remaining_headers" in tight.capabilities:
                pytest.skip(f"{tight.vendor} sends remaining-count headers: its pacing is "
                            f"test_burst_is_paced_from_the_remaining_count_headers")
            self._assert_paced_burst(tight)

        # ---- 5. auth -------------------------------------------------------------------------
        def test_an_access_token_expiring_mid_run_is_refreshed_once_and_the_run_goes_on(
                self, vendor: AccountingHarness) -> None:
            vendor.require("oauth_refresh")
            acct = vendor.connector()
            store = vendor.token_store(acct)
            old = vendor.live_refresh_token()
            pages = acct.invoices_modified_since(None, page_size=2)
            read = list(next(pages))
            vendor.expire_access_tokens()
            vendor.reset_stats()
            read += [invoice for page in pages for invoice in page]  # the run goes on
            assert {i.id for i in read} == set(vendor.changes_since("invoices", 0))
            assert acct.stats.snapshot()["token_refreshes"] == 1
            new = vendor.live_refresh_token()
            assert new != old and store.saves[-1][0] == new, "the rotated refresh token was not kept"
            assert store.saves[-1][1] == 1, "saved after a call with the new token: not before use"
            assert vendor.try_refresh(old) == 400, "the old refresh token still works at the vendor"
            acct.tax_rates()
            assert acct.stats.snapshot()["token_refreshes"] == 1

    AccountingContract.__name__ = AccountingContract.__qualname__ = (
        f"{harness_class.vendor.title()}AccountingContract")
    AccountingContract.harness_class = harness_class
    return AccountingContract
