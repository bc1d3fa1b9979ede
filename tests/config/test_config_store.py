"""The store side of configuration versions, on SQLite and PostgreSQL: migration 0005 up and down,
the audit chain with and without versions, and the config_version history."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect, text

from ledgerlink.config_versions import versions_for
from ledgerlink.store import Store
from ledgerlink.store.audit_log import GENESIS, NewAuditEvent, _digest
from ledgerlink.store.database import downgrade, make_engine, migrate
from ledgerlink.store.tables import utcnow
from ledgerlink.tenants import Tenant

T = "acme"
V1, V2 = "a1b2c3d4e5f6", "0f1e2d3c4b5a"
VERSIONED = ("sync_run", "audit_event", "write_intent")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request, tmp_path):
    """An empty database (PostgreSQL: a schema of its own), so migrations can go down and up."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    if os.environ.get("LEDGERLINK_SKIP_POSTGRES") == "1":
        pytest.skip("LEDGERLINK_SKIP_POSTGRES=1")
    url = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"ll_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _append_as_0004_did(engine, actions: list[str]) -> None:
    """Audit events as written before 0005: the hashed body has no config_version key at all."""
    prev = GENESIS
    with engine.begin() as connection:
        for seq, action in enumerate(actions, start=1):
            at = utcnow().replace(tzinfo=None)
            body = {"tenant": T, "seq": seq, "at": at.isoformat(timespec="microseconds"), "actor": "ledgerlink",
                    "action": action, "handoff": "won-deal-to-invoice", "run_id": None, "deal_id": f"d{seq}",
                    "customer_id": None, "invoice_number": None, "before": None, "after": None}
            digest = _digest(prev, body)
            connection.execute(text(
                "INSERT INTO audit_event (tenant, seq, at, actor, action, handoff, deal_id, prev_hash, hash) "
                "VALUES (:tenant, :seq, :at, 'ledgerlink', :action, 'won-deal-to-invoice', :deal, :prev, :hash)"),
                {"tenant": T, "seq": seq, "at": at, "action": action, "deal": f"d{seq}", "prev": prev, "hash": digest})
            prev = digest
        connection.execute(text("INSERT INTO audit_chain_head (tenant, seq, hash) VALUES (:t, :s, :h)"),
                           {"t": T, "s": len(actions), "h": prev})


def _columns(engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_migration_0005_adds_versions_keeps_old_audit_events_verifiable_and_goes_back(fresh_engine):
    migrate(fresh_engine, "0004")
    _append_as_0004_did(fresh_engine, ["invoice.created", "deal.written_back"])
    migrate(fresh_engine, "0005")
    assert all("config_version" in _columns(fresh_engine, table) for table in VERSIONED)
    assert {"tenant", "kind", "name", "hash", "content", "first_used_at", "checked_at",
            "check_summary"} <= _columns(fresh_engine, "config_version")
    store = Store(fresh_engine)
    assert store.audit.verify(T) is None  # old rows, hashed without a version, still verify
    store.for_config(V1).audit.append(T, [NewAuditEvent("invoice.created", deal_id="d3")])
    assert [e.config_version for e in store.audit.search(T)] == [None, None, V1]
    assert store.audit.verify(T) is None

    downgrade(fresh_engine, "0004")
    assert not any("config_version" in _columns(fresh_engine, table) for table in VERSIONED)
    assert not inspect(fresh_engine).has_table("config_version")
    with fresh_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 3
    for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"):  # the table copy on SQLite kept the triggers
            with fresh_engine.begin() as connection:
                connection.execute(text(statement))
    migrate(fresh_engine)
    assert "config_version" in _columns(fresh_engine, "audit_event")


@contextmanager
def _tampering(store):
    """What someone editing the database behind ledgerlink's back does first: switch the guard off."""
    with store.engine.begin() as connection:
        if store.backend == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        yield connection
    if store.backend == "postgresql":
        with store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


TAMPERING = {  # seqs 1-2 have no version (as before 0005), 3-4 carry V1
    "old event edited": ("UPDATE audit_event SET action = 'forged' WHERE seq = 1", 1),
    "new event edited": ("UPDATE audit_event SET action = 'forged' WHERE seq = 3", 3),
    "old event given a version": (f"UPDATE audit_event SET config_version = '{V1}' WHERE seq = 2", 2),
    "new event's version removed": ("UPDATE audit_event SET config_version = NULL WHERE seq = 3", 3),
    "new event's version changed": (f"UPDATE audit_event SET config_version = '{V2}' WHERE seq = 4", 4),
    "old event deleted": ("DELETE FROM audit_event WHERE seq = 2", 3),
    "new event deleted": ("DELETE FROM audit_event WHERE seq = 3", 4),
    "newest event deleted": ("DELETE FROM audit_event WHERE seq = 4", 4),
}


@pytest.mark.parametrize("statement, broken_at", TAMPERING.values(), ids=TAMPERING.keys())
def test_audit_verify_finds_an_edited_or_deleted_event_with_or_without_a_version(store, statement, broken_at):
    store.audit.append(T, [NewAuditEvent("invoice.created", deal_id="d1"), NewAuditEvent("deal.written_back")])
    store.for_config(V1).audit.append(T, [NewAuditEvent("invoice.created", deal_id="d2"),
                                          NewAuditEvent("deal.written_back", deal_id="d2")])
    assert [e.config_version for e in store.audit.search(T)] == [None, None, V1, V1]
    assert store.audit.verify(T) is None
    with _tampering(store) as connection:
        connection.execute(text(statement))
    assert store.audit.verify(T) == broken_at


def test_an_event_names_its_own_version_over_the_store_s(store):
    store.for_config(V1).audit.append(T, [NewAuditEvent("x", config_version=V2), NewAuditEvent("y")])
    assert [e.config_version for e in store.audit.search(T)] == [V2, V1]


def test_runs_and_write_intents_carry_the_store_s_version(store):
    bound = store.for_config(V1)
    run = bound.runs.start(T, "won-deal-to-invoice", "run-1")
    store.runs.finish(run, "completed", {}, {})
    assert [r.config_version for r in store.runs.recent(T)] == [V1]
    assert bound.intents.claim(T, "won-deal-to-invoice", "invoice", {"DEAL-1": "h1"}, "k1", "run-1") == ["DEAL-1"]
    bound.intents.mark(T, "invoice", ["DEAL-1"], _failed())
    store.for_config(V2).intents.claim(T, "won-deal-to-invoice", "invoice", {"DEAL-1": "h1"}, "k2", "run-2")
    assert store.intents.for_keys(T, "invoice", ["DEAL-1"])["DEAL-1"].config_version == V2  # the retry's


def _failed():
    from ledgerlink.store.tables import IntentStatus

    return IntentStatus.FAILED


ACME = Tenant(name=T, crm={"system": "hubspot", "token": "env:ACME_HUBSPOT_TOKEN"},
              accounting={"system": "xero", "tenant_id": "t-1", "client_id": "env:A", "client_secret": "env:B",
                          "refresh_token": "env:C"})


def test_history_keeps_the_first_use_and_the_check_of_each_version(store):
    versions = versions_for(ACME, "won-deal-to-invoice")
    history = store.config_history
    assert not history.is_checked(versions) and len(history.unchecked_parts(versions)) == len(versions.parts)
    history.record_use(versions)
    [row] = history.handoff_versions(T)
    first_used = row.first_used_at
    history.record_use(versions)  # a second run does not move "first used"
    assert history.handoff_versions(T)[0].first_used_at == first_used and row.checked_at is None
    history.record_check(versions, {"won-deal-to-invoice": {"creates": 25}})
    [row] = history.handoff_versions(T)
    assert row.checked_at is not None and row.check_summary == {"won-deal-to-invoice": {"creates": 25}}
    assert history.is_checked(versions) and history.unchecked_parts(versions) == []
    parts = history.parts_of(row)
    assert {(p.kind, p.name, p.hash) for p in parts} == {(p.kind, p.name, p.hash) for p in versions.parts}
    assert all(p.checked_at is not None and p.first_used_at is not None for p in parts)
    spec = next(p for p in parts if (p.kind, p.name) == ("spec", "won-deal-to-invoice"))
    assert "reference: DEAL-{deal_id}" in spec.content


def test_a_version_checked_before_its_first_run_is_newest_and_gets_its_first_use_later(store):
    older = versions_for(ACME, "won-deal-to-invoice")
    store.config_history.record_use(older)
    changed = ACME.model_copy(update={"overrides": {"won-deal-to-invoice": {"invoice": {"default_payment_terms_days": 14}}}})
    newer = versions_for(changed, "won-deal-to-invoice")
    store.config_history.record_check(newer, {})
    assert [r.hash for r in store.config_history.handoff_versions(T)] == [newer.id, older.id]
    assert store.config_history.handoff_versions(T)[0].first_used_at is None
    store.config_history.record_use(newer)
    assert store.config_history.handoff_versions(T)[0].first_used_at is not None
    # only the overridden spec differs between the two; every other part was checked along with `newer`
    assert [(p.kind, p.name) for p in store.config_history.unchecked_parts(older)] == [("spec", "won-deal-to-invoice")]
