"""contact-to-accounting-contact end to end: finance-ready only, matched before created, never a
guess, ids both ways, accounting-side edits reported, and nothing twice."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def fresh_companies(spine):
    """Companies that have no contact in the Xero sandbox yet, with a VAT number."""
    existing = {c.get("TaxNumber") for c in spine.books.contacts.values()}
    found = [cid for cid, props in spine.companies().items()
             if props.get("vat_number") and props["vat_number"] not in existing
             and len(props["vat_number"]) == 10 and props.get("billing_email")]
    assert len(found) >= 3
    return found


def test_each_matching_rule_links_instead_of_creating(spine, fresh_companies):
    by_email, by_name, twins = fresh_companies[:3]
    email = spine.companies()[by_email]["billing_email"]
    spine.books.add_contact("Some Other Spelling", EmailAddress=email)
    name = spine.companies()[by_name]["name"]
    spine.books.add_contact(name.replace("(Pty) Ltd", "PTY LTD").upper() if "(Pty) Ltd" in name else name.upper())
    twin_mail = spine.companies()[twins]["billing_email"]
    spine.books.add_contact("Twin A", EmailAddress=twin_mail)
    spine.books.add_contact("Twin B", EmailAddress=twin_mail)
    result = spine.sync_contacts()
    counts = result["counts"]
    assert counts["customers_matched_by_vat_number"] >= 1
    assert counts["customers_matched_by_email"] == 1 and counts["customers_matched_by_name"] == 1
    store = spine.store()
    links = store.links.for_crm_ids("demo", "customer", [by_email, by_name, twins])
    assert set(links) == {by_email, by_name}  # the twins are left to a person
    [item] = [i for i in store.exceptions.list("demo") if i.record_id == twins]
    assert item.reason_code == "customer_merge_review" and "match by email" in item.detail
    assert spine.contacts_numbered(twins) == []
    for cid in (by_email, by_name):  # linked and updated: the cross-reference lives on both sides
        [contact] = spine.contacts_numbered(cid)
        assert contact["ContactID"] == links[cid].accounting_id
        assert spine.companies()[cid]["ledgerlink_accounting_id"] == links[cid].accounting_id
        assert contact["Name"] == spine.companies()[cid]["name"]  # the CRM owns customer fields


def test_only_finance_ready_companies_move_and_a_fixed_one_moves_on_its_own(spine, fresh_companies):
    cid = fresh_companies[0]
    spine.hubspot.update("companies", cid, {"billing_email": None})
    spine.sync_contacts()
    store = spine.store()
    [item] = [i for i in store.exceptions.list("demo") if i.record_id == cid]
    assert item.reason_code == "not_finance_ready" and "missing billing email" in item.detail
    assert spine.contacts_numbered(cid) == []
    spine.hubspot.update("companies", cid, {"billing_email": "accounts@fixed.example.co.za"})
    spine.sync_contacts()
    assert len(spine.contacts_numbered(cid)) == 1
    assert cid not in {i.record_id for i in store.exceptions.list("demo")}


def test_rerun_creates_no_duplicates_and_writes_nothing(spine):
    first = spine.sync_contacts()
    assert first["status"] == "completed" and first["counts"].get("customers_created", 0) >= 1
    contacts = len(spine.books.contacts)
    spine.reset_stats()
    second = spine.sync_contacts()
    assert len(spine.books.contacts) == contacts
    assert spine.stats("xero")["writes"] == 0 and spine.stats("hubspot")["writes"] == 0
    assert second["counts"].get("customers_created", 0) == 0
    numbers = [c.get("ContactNumber") for c in spine.books.contacts.values() if c.get("ContactNumber")]
    assert len(numbers) == len(set(numbers))


def test_an_edit_in_accounting_to_a_crm_owned_field_is_reported_not_overwritten(spine, fresh_companies):
    cid = fresh_companies[0]
    spine.sync_contacts()
    [contact] = spine.contacts_numbered(cid)
    spine.xero("POST", "/Contacts", {"Contacts": [{"ContactID": contact["ContactID"], "Name": "Renamed In Xero"}]})
    spine.sync_contacts()
    store = spine.store()
    [item] = [i for i in store.exceptions.list("demo") if i.record_id == cid]
    assert item.reason_code == "accounting_edit_conflict" and item.owner == "finance" and "name" in item.detail
    spine.hubspot.update("companies", cid, {"phone": "+27 21 000 0000"})  # a CRM change arrives meanwhile
    result = spine.sync_contacts()
    assert result["counts"]["customers_update_held_by_conflict"] == 1
    assert spine.contacts_numbered(cid)[0]["Name"] == "Renamed In Xero"  # not silently overwritten


def test_won_deal_flow_uses_the_contact_handoff_for_its_customers(spine):
    spine.sync_contacts()
    contacts = len(spine.books.contacts)
    result = spine.run()
    assert result["counts"]["invoices_created"] == len(spine.eligible_deals())
    assert len(spine.books.contacts) == contacts  # every customer already existed: nothing created twice


@pytest.fixture
def quickbooks_pair(tmp_path, monkeypatch, prefect_server):
    """Pipedrive + QuickBooks Online sandboxes, a fresh store, and their demo tenant."""
    from connectors.sandbox.pairs import start_pair
    from flows.demo import demo_tenant_name, demo_tenants_file

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    pair = start_pair("pipedrive", "quickbooks", seed=42, limits=False, deals=60)
    before = dict(os.environ)
    demo_tenants_file(tmp_path, pair, rate_limits=False)
    for name, value in os.environ.items():
        if before.get(name) != value:
            monkeypatch.setenv(name, value)  # restored when the test ends
    yield pair, demo_tenant_name("pipedrive", "quickbooks")
    pair.stop(save=False)


def test_on_quickbooks_a_masked_vat_number_is_no_edit_but_a_rename_is(quickbooks_pair):
    """QuickBooks never shows a VAT number back (only its last five digits): that is not an edit
    made in accounting. A second run used to report every linked customer as edited."""
    from connectors.sandbox.quickbooks_customers import update_customer
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from ledgerlink.store import open_store

    pair, tenant = quickbooks_pair
    contact_to_accounting_contact(tenant=tenant)
    again = contact_to_accounting_contact(tenant=tenant)
    assert again["counts"].get("accounting_edit_conflicts", 0) == 0
    store = open_store()
    company, accounting_id, _ = next(store.links.pages(tenant, "customer"))[0]
    customer = pair.accounting.state.books.get("Customer", accounting_id)
    update_customer(pair.accounting.state.books, {"Id": accounting_id, "SyncToken": customer["SyncToken"],
                                                  "sparse": True, "DisplayName": "Renamed In QuickBooks"})
    third = contact_to_accounting_contact(tenant=tenant)
    assert third["counts"]["accounting_edit_conflicts"] == 1
    [item] = [i for i in store.exceptions.list(tenant) if i.reason_code == "accounting_edit_conflict"]
    assert item.record_id == company and "name" in item.detail and "vat_number" not in item.detail
