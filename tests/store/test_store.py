"""The store's promises, on SQLite and on the local PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from ledgerlink.store.tables import IntentStatus

T = "acme"


def test_links_are_unique_per_side_and_upsert_updates(store):
    store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1", "accounting_number": "INV-0001"}])
    store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1", "accounting_number": "INV-0001", "checksum": "c2"}])
    links = store.links.for_crm_ids(T, "invoice", ["d1", "d2"])
    assert list(links) == ["d1"] and links["d1"].checksum == "c2"
    assert store.links.by_accounting_number(T, "invoice", "INV-0001").crm_id == "d1"
    with pytest.raises(IntegrityError):  # a second deal may not point at the same invoice
        store.links.save(T, "invoice", [{"crm_id": "d2", "accounting_id": "inv-1"}])
    store.links.save("other-tenant", "invoice", [{"crm_id": "d1", "accounting_id": "inv-1"}])
    assert store.links.count(T, "invoice") == 1


def test_links_track_pending_write_back(store):
    store.links.save(T, "invoice", [{"crm_id": f"d{i}", "accounting_id": f"i{i}"} for i in range(3)])
    store.links.mark_written_back(T, "invoice", ["d0", "d2"])
    assert [link.crm_id for link in store.links.pending_write_back(T, "invoice")] == ["d1"]


def test_cursor_round_trip(store):
    assert store.cursors.get(T, "won-deal-to-invoice") is None
    store.cursors.set(T, "won-deal-to-invoice", "1700000000000")
    store.cursors.set(T, "won-deal-to-invoice", "1700000000999")
    assert store.cursors.get(T, "won-deal-to-invoice") == "1700000000999"


def test_intent_claim_protocol(store):
    claimed = store.intents.claim(T, "h", "invoice", {"r1": "h1", "r2": "h2"}, "key-a", "run-1")
    assert claimed == ["r1", "r2"]
    # a second claim (another run, another key) gets nothing while they are unsettled
    assert store.intents.claim(T, "h", "invoice", {"r1": "h1", "r2": "h2"}, "key-b", "run-2") == []
    store.intents.mark(T, "invoice", ["r1", "r2"], IntentStatus.SENT)
    assert {i.record_key for i in store.intents.unsettled(T, "invoice")} == {"r1", "r2"}
    store.intents.settle(T, "invoice", [
        {"record_key": "r1", "status": IntentStatus.CONFIRMED, "target_id": "x1"},
        {"record_key": "r2", "status": IntentStatus.FAILED, "detail": "Contact missing"},
    ])
    assert store.intents.unsettled(T, "invoice") == []
    # a failed record may be claimed again (after the data was fixed); a confirmed one never
    assert store.intents.claim(T, "h", "invoice", {"r1": "h1", "r2": "h2b"}, "key-c", "run-3") == ["r2"]
    intent = store.intents.for_keys(T, "invoice", ["r2"])["r2"]
    assert intent.attempts == 2 and intent.idempotency_key == "key-c"


def test_exception_queue_refresh_and_resolve(store):
    item = NewException("deal", "d9", "amount_not_positive", "deal amount must be > 0 (got -5.00)", "sales-ops", "c1")
    assert store.exceptions.raise_many(T, "h", [item]) == 1
    assert store.exceptions.raise_many(T, "h", [item]) == 0  # same record, same problem: no new attempt
    assert store.exceptions.waiting_checksums(T, "h", ["d9"]) == {"d9": "c1"}
    changed = NewException("deal", "d9", "no_line_items", "deal has no line items", "sales-ops", "c2")
    assert store.exceptions.raise_many(T, "h", [changed]) == 1
    [row] = store.exceptions.list(T)
    assert (row.reason_code, row.attempts, row.owner) == ("no_line_items", 2, "sales-ops")
    assert store.exceptions.resolve(T, "h", ["d9"]) == 1
    assert store.exceptions.list(T) == [] and store.exceptions.list(T, status="resolved")[0].record_id == "d9"


def test_audit_chain_masks_personal_data_and_detects_tampering(store):
    store.audit.append(T, [
        NewAuditEvent("invoice.created", deal_id="d1", invoice_number="INV-0001", customer_id="c1",
                      after={"customer_name": "Karoo Outdoor Supplies", "email": "thandi@karoo.example.co.za", "total": "115.00"}),
        NewAuditEvent("deal.written_back", deal_id="d1", invoice_number="INV-0001"),
    ])
    store.audit.append(T, [NewAuditEvent("invoice.created", deal_id="d2", invoice_number="INV-0002")])
    events = store.audit.search(T, deal_id="d1")
    assert [e.seq for e in events] == [1, 2]
    after = events[0].after
    assert "Karoo" not in str(after) and "thandi" not in str(after)
    assert after["customer_name"] == "K*** O*** S***" and len(after["email_sha256"]) == 16
    assert store.audit.search(T, invoice_number="INV-0002")[0].deal_id == "d2"
    assert store.audit.verify(T) is None
    with pytest.raises(Exception, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE audit_event SET action = 'forged' WHERE seq = 1"))
    with pytest.raises(Exception, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_event"))


def test_tokens_are_persisted(store):
    expires = datetime.now(timezone.utc) + timedelta(minutes=30)
    store.tokens.save(T, "xero", "at-1", "rt-1", expires)
    store.tokens.save(T, "xero", "at-2", "rt-2", expires)
    row = store.tokens.load(T, "xero")
    assert (row.access_token, row.refresh_token) == ("at-2", "rt-2")


def test_migrations_are_idempotent(store):
    from ledgerlink.store.database import migrate

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from ledgerlink.store.database import MIGRATIONS

    migrate(store.engine)  # a second start must not fail or duplicate anything
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head == "0005"


def test_sync_state_skips_and_revisits(store):
    from datetime import date

    store.sync_states.save(T, "payment-to-crm", [
        {"record_id": "inv-1", "target_id": "d1", "checksum": "c1", "values": {"status": "awaiting_payment"},
         "revisit_on": date(2026, 11, 30)},
        {"record_id": "inv-2", "target_id": "d2", "checksum": "c2", "values": {"status": "paid"}, "revisit_on": None},
    ])
    assert store.sync_states.for_records(T, "payment-to-crm", ["inv-1"])["inv-1"].checksum == "c1"
    assert store.sync_states.due(T, "payment-to-crm", date(2026, 11, 29)) == []
    assert store.sync_states.due(T, "payment-to-crm", date(2026, 11, 30)) == ["inv-1"]


def test_a_trigger_fires_once_per_record(store):
    assert store.triggers.fire_once(T, "payment-to-crm", "onboarding", "d1", "run-1") is True
    assert store.triggers.fire_once(T, "payment-to-crm", "onboarding", "d1", "run-2") is False
    assert store.triggers.fire_once(T, "payment-to-crm", "onboarding", "d2", "run-2") is True
    assert sorted(store.triggers.fired(T, "payment-to-crm", "onboarding")) == ["d1", "d2"]


def test_an_approval_request_is_decided_exactly_once(store):
    from ledgerlink.store.tables import ApprovalStatus

    request = store.approvals.create(T, "won-deal-to-invoice", "deal", "42", "c" * 64, rules=["large_discount"],
                                     approvers=["finance"], corrections_allowed=[], context={"total": "1.00"})
    won, first = store.approvals.decide(request.id, ApprovalStatus.APPROVED, by="slack:U1", via="slack")
    lost, second = store.approvals.decide(request.id, ApprovalStatus.REJECTED, by="prefect:Ops", via="prefect",
                                          comment="too late")
    assert (won, lost) == (True, False)
    assert (second.status, second.decided_by, second.comment) == ("approved", "slack:U1", None)
    assert store.approvals.latest_for(T, "won-deal-to-invoice", ["42"])["42"].id == request.id
    with pytest.raises(ValueError, match="use decide"):
        store.approvals.update(request.id, status="pending")
