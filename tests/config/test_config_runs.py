"""Real runs on the sandboxes: every run, audit event and write intent names the configuration
version it used; a changed spec is a new version from the next run on; `config check` dry-runs a
version and a tenant that requires checked configuration runs nothing else."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

TERMS_14 = {"won-deal-to-invoice": {"invoice": {"default_payment_terms_days": 14}}}


def _events_after(store, seq: int):
    return [event for event in store.audit.search("acme", limit=100_000) if event.seq > seq]


def _intents(store):
    from sqlmodel import Session, select

    from ledgerlink.store.tables import WriteIntent

    with Session(store.engine) as session:
        return list(session.exec(select(WriteIntent).where(WriteIntent.tenant == "acme")))


def test_a_spec_change_is_a_new_version_on_the_next_run_s_events_and_intents(acme):
    store = acme.store()
    v1 = acme.versions().id
    first = acme.run()
    assert first["status"] == "completed" and first["created"]
    [run] = store.runs.recent("acme")
    assert run.config_version == v1
    events = _events_after(store, 0)
    assert {e.action for e in events} >= {"invoice.created", "deal.written_back", "customer.created"}
    assert {e.config_version for e in events} == {v1}
    assert {i.config_version for i in _intents(store)} == {v1} and len(_intents(store)) >= len(first["created"])
    last_seq = events[-1].seq

    acme.configure(overrides=TERMS_14)  # finance shortens the payment terms for acme
    v2 = acme.versions().id
    assert v2 != v1
    deal = acme.open_deal_of_a_customer(store)
    acme.win(deal)
    second = acme.run()
    assert [c["deal"] for c in second["created"]] == [deal]
    assert [r.config_version for r in store.runs.recent("acme")] == [v2, v1]
    new_events = _events_after(store, last_seq)
    assert {e.action for e in new_events} >= {"invoice.created", "deal.written_back"}
    assert {e.config_version for e in new_events} == {v2}
    by_version = {}
    for intent in _intents(store):
        by_version.setdefault(intent.config_version, set()).add(intent.record_key)
    assert by_version[v2] == {deal} and deal not in by_version[v1]  # intents are keyed by deal id
    assert store.audit.verify("acme") is None

    history = store.config_history.handoff_versions("acme", "won-deal-to-invoice")
    assert [row.hash for row in history] == [v2, v1]
    assert history[0].first_used_at > history[1].first_used_at and history[0].checked_at is None
    assert store.config_history.handoff_versions("acme", "contact-to-accounting-contact") == []  # not run alone


def test_require_checked_config_refuses_until_config_check_passed_the_version(acme, capfd):
    from ledgerlink.cli import main
    from ledgerlink.config_versions import ConfigNotChecked

    acme.configure(require_checked_config=True)
    store = acme.store()
    with pytest.raises(ConfigNotChecked) as refused:
        acme.run()
    message = str(refused.value)
    assert "\n" not in message and message.startswith("won-deal-to-invoice for tenant acme refused: ")
    assert "(none of its spec, suite and mapping versions has been checked yet)" in message
    assert message.endswith("ledgerlink config check --tenant acme --handoff won-deal-to-invoice")
    assert store.runs.recent("acme") == [] and acme.pair.calls() == 0  # refused before touching either system

    assert main(["config", "check", "--tenant", "acme", "--handoff", "won-deal-to-invoice"]) == 0
    printed = capfd.readouterr().out.splitlines()
    assert printed[0] == "tenant acme (hubspot + xero)" and printed[-1] == "1 of 1 handoff configuration(s) passed"
    assert printed[1].split() == ["won-deal-to-invoice", acme.versions().id, "checked", "·", "dry", "run:", "25",
                                  "creates,", "25", "updates,", "7", "exceptions,", "0", "held", "for", "review"]
    assert store.config_history.is_checked(acme.versions())
    [row] = store.config_history.handoff_versions("acme", "won-deal-to-invoice")
    assert row.checked_at is not None and row.first_used_at is None
    assert row.check_summary["dry_run"] == {"creates": 25, "updates": 25, "exceptions": 7, "held_for_review": 0}
    assert row.check_summary["ran"] == ["contact-to-accounting-contact", "won-deal-to-invoice"]
    assert acme.pair.calls() == 0 and store.links.for_crm_ids("acme", "customer", ["1"]) == {}  # dry run: elsewhere
    assert main(["config", "check", "--tenant", "acme", "--handoff", "won-deal-to-invoice"]) == 0
    assert "already checked" in capfd.readouterr().out

    assert acme.run()["status"] == "completed"
    assert [r.config_version for r in store.runs.recent("acme")] == [acme.versions().id]

    acme.configure(require_checked_config=True, overrides=TERMS_14)
    capfd.readouterr()
    assert main(["run", "won-deal-to-invoice", "--tenant", "acme"]) == 2
    error = capfd.readouterr().err  # refused before Prefect starts: one line, nothing else
    assert error.count("\n") == 1 and error.startswith("ledgerlink: won-deal-to-invoice for tenant acme refused: ")
    assert (f"(not checked: spec won-deal-to-invoice (flows/specs/won_deal_to_invoice.yaml with tenant acme's "
            f"overrides in {acme.tenants_file})); check it with: ") in error  # the changed part, and only it

    assert main(["config", "history", "--tenant", "acme"]) == 0
    shown = capfd.readouterr().out
    assert f"in effect now: {acme.versions().id} (neither used nor checked yet)" in shown
    assert f"* {row.hash}" not in shown and f"  {row.hash}  first used" in shown
