"""The same spine with the store on the local PostgreSQL (one URL setting), not SQLite."""

from __future__ import annotations


def test_won_deals_and_payments_on_postgresql_create_nothing_twice(spine, postgres_schema_url, monkeypatch):
    from ledgerlink.store import open_store
    from sqlalchemy import text

    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", postgres_schema_url)
    store = open_store()
    assert store.backend == "postgresql"
    with store.engine.begin() as connection:  # the session's schema is shared: start empty
        connection.execute(text("TRUNCATE record_link, sync_cursor, write_intent, exception_item, audit_event, "
                                "audit_chain_head, oauth_token, sync_run, sync_state, trigger_fired"))
    first = spine.run()
    assert first["counts"]["invoices_created"] == len(spine.eligible_deals())
    assert spine.run()["counts"].get("invoices_created", 0) == 0
    assert len(spine.invoices()) == len(spine.eligible_deals())
    assert spine.pay_invoices()["counts"]["records_updated"] == len(spine.eligible_deals())
    assert store.links.count("demo", "invoice") == len(spine.eligible_deals())
    assert store.audit.verify("demo") is None
