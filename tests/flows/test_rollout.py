"""Rolling a handoff out in phases: a scoped pilot moves only its customers' deals, widening the
scope moves the rest with no duplicates, and a backfill of history resumes after an interruption
and moves each record once, without touching the live cursor."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone


def _tenant(spine, tmp_path, overrides: dict | None) -> None:
    from flows.demo import demo_tenants_file

    demo_tenants_file(tmp_path, spine.sandboxes, rate_limits=False, overrides=overrides)


def _company_of(spine, deal_id: str) -> str | None:
    targets = spine.hubspot.associations.targets("deals", int(deal_id), "companies")
    return str(sorted(targets)[0][0]) if targets else None


def _invoiced(spine) -> Counter:
    return Counter(ref for ref, found in spine.invoices_by_reference().items() for _ in found)


def test_a_scoped_pilot_moves_only_its_customers_and_widening_moves_the_rest_once(spine, tmp_path):
    eligible = sorted(spine.eligible_deals(), key=int)
    pilot = sorted({_company_of(spine, d) for d in eligible[:6]})[:2]
    in_pilot = {d for d in eligible if _company_of(spine, d) in pilot}
    _tenant(spine, tmp_path, {"won-deal-to-invoice": {"scope": {"companies": pilot}}})

    first = spine.run()
    assert set(_invoiced(spine)) == {f"DEAL-{d}" for d in in_pilot} and in_pilot
    assert first["counts"]["skipped_out_of_scope"] > 0
    queued = {item.record_id for item in spine.store().exceptions.list("demo")}
    assert queued <= {d for d in spine.defective_deals() if _company_of(spine, d) in pilot}  # others: not errors
    assert all(not spine.deal(d).get("ledgerlink_invoice_number") for d in set(eligible) - in_pilot)

    _tenant(spine, tmp_path, None)  # the pilot went well: every customer now
    second = spine.run()
    assert _invoiced(spine) == Counter({f"DEAL-{d}": 1 for d in eligible})
    assert second["counts"]["invoices_created"] == len(eligible) - len(in_pilot)
    assert {item.record_id for item in spine.store().exceptions.list("demo")} == set(spine.defective_deals())


def _changed_on(spine, deal_id: str) -> date:
    return datetime.fromtimestamp(spine.hubspot.deals.get(deal_id).modified_ms / 1000, timezone.utc).date()


def test_an_interrupted_backfill_resumes_and_moves_each_record_once(spine, tmp_path):
    from flows.won_deal_to_invoice import won_deal_to_invoice

    _tenant(spine, tmp_path, {"won-deal-to-invoice": {"page_size": 5}})
    since, until = date(2025, 12, 1), date(2026, 6, 30)
    history = {d for d in spine.eligible_deals() if _changed_on(spine, d) <= date(2026, 6, 29)}
    later = {d for d in spine.eligible_deals() if _changed_on(spine, d) >= date(2026, 7, 2)}
    assert history and later

    interrupted = won_deal_to_invoice(tenant="demo", backfill_since=since, backfill_until=until, max_pages=1)
    assert interrupted["counts"]["deals_read"] == 5
    done = won_deal_to_invoice(tenant="demo", backfill_since=since, backfill_until=until)
    invoiced = _invoiced(spine)
    assert max(invoiced.values()) == 1
    assert {f"DEAL-{d}" for d in history} <= set(invoiced) and not {f"DEAL-{d}" for d in later} & set(invoiced)
    assert spine.store().cursors.get("demo", "won-deal-to-invoice") is None  # the live cursor did not move
    again = won_deal_to_invoice(tenant="demo", backfill_since=since, backfill_until=until)
    assert again["counts"].get("invoices_created", 0) == 0 and done["status"] == "completed"

    spine.run()  # the live handoff then moves the rest, and nothing twice
    assert _invoiced(spine) == Counter({f"DEAL-{d}": 1 for d in spine.eligible_deals()})
