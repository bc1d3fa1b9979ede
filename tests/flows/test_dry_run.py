"""A dry run reads both sides and plans; it writes nothing anywhere — and a real run then does
exactly what the plan said, record by record."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import text

# oauth_token is left out on purpose: a refresh token Xero rotates during a dry run must be kept,
# or the connection is lost (tests/connectors cover the rotation itself).
TABLES = ["record_link", "sync_cursor", "write_intent", "exception_item", "audit_event", "audit_chain_head",
          "sync_run", "sync_state", "trigger_fired", "approval_request"]


def store_rows(store) -> dict[str, list]:
    """Every row of every table but the OAuth tokens, as text: the store, to compare before and after."""
    with store.engine.connect() as connection:
        return {table: sorted(json.dumps(dict(row), sort_keys=True, default=str)
                              for row in connection.execute(text(f"SELECT * FROM {table}")).mappings())
                for table in TABLES}


def _planned(plan: dict, action: str, object_: str) -> set[str]:
    return {e["record"] for e in plan["entries"] if e["action"] == action and e["object"] == object_}


def _exceptions(report: dict) -> set[tuple[str, str]]:
    return {(p["record"], p["reason"]) for p in report["problems"]}


def _untouched(spine, before: dict, store) -> None:
    assert store_rows(store) == before, "a dry run changed the store"
    for system in ("hubspot", "xero"):
        assert spine.stats(system)["writes"] == 0, f"a dry run wrote to {system}"


def test_dry_runs_change_nothing_and_list_exactly_what_the_real_runs_then_do(spine):
    store = spine.store()
    before = store_rows(store)
    spine.reset_stats()

    contacts_plan = spine.sync_contacts(dry_run=True)
    _untouched(spine, before, store)
    contacts = spine.sync_contacts()
    created = {e.customer_id for e in store.audit.search("demo", action="customer.created")}
    assert _planned(contacts_plan["plan"], "create", "contact") == created and created
    assert _exceptions(contacts_plan) == _exceptions(contacts)
    assert len(_planned(contacts_plan["plan"], "update", "contact")) == contacts["counts"].get("customers_updated", 0)

    before = store_rows(store)
    spine.reset_stats()
    deals_plan = spine.run(dry_run=True)
    _untouched(spine, before, store)
    assert store.cursors.get("demo", "won-deal-to-invoice") is None  # no cursor moved
    real = spine.run()
    invoiced = {f"DEAL-{c['deal']}" for c in real["created"]}
    assert _planned(deals_plan["plan"], "create", "invoice") == invoiced and len(invoiced) == len(spine.eligible_deals())
    assert _exceptions(deals_plan) == _exceptions(real) and len(_exceptions(real)) == 7
    assert _planned(deals_plan["plan"], "update", "deal") == {c["deal"] for c in real["created"]}
    assert deals_plan["plan"]["skipped"]["not won"] == real["counts"]["skipped_not_triggered"]

    deal = sorted(spine.eligible_deals(), key=int)[0]
    invoice = spine.invoice_for(deal)
    spine.books.pay(invoice["InvoiceID"], Decimal(str(invoice["AmountDue"])), date(2026, 11, 20))
    before = store_rows(store)
    spine.reset_stats()
    payments_plan = spine.pay_invoices(dry_run=True)
    _untouched(spine, before, store)
    planned = {e["record"]: e["changes"] for e in payments_plan["plan"]["entries"] if e["action"] == "update"}
    assert planned[deal]["ledgerlink_invoice_status"] == [None, "paid"]
    triggers = _planned(payments_plan["plan"], "trigger", "event")
    payments = spine.pay_invoices()
    assert set(planned) == {u["target"] for u in payments["updated"]}
    assert triggers == {deal} and payments["counts"]["trigger_onboarding"] == 1
    for deal_id, changes in planned.items():
        for prop, (_, after) in changes.items():
            assert (spine.deal(deal_id).get(prop) or None) == after
