"""payment-to-crm end to end: money moves in the Xero sandbox, the HubSpot deals show it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal


def _unpaid(invoice) -> str:
    due = date.fromisoformat(invoice["_due"])  # the sandbox keeps the due day as YYYY-MM-DD
    return "overdue" if due < date.today() else "awaiting_payment"


def _deal_money(spine, deal_id):
    props = spine.deal(deal_id)
    return (props.get("ledgerlink_invoice_status"), Decimal(props.get("ledgerlink_amount_paid") or "0"),
            Decimal(props.get("ledgerlink_amount_due") or "0"), props.get("ledgerlink_paid_date"),
            props.get("ledgerlink_invoice_currency"))


def test_each_kind_of_money_movement_lands_on_the_deal_to_the_cent(spine):
    spine.run()
    deals = sorted(spine.eligible_deals(), key=int)[:6]
    invoice = {d: spine.invoice_for(d) for d in deals}
    total = {d: Decimal(str(invoice[d]["Total"])) for d in deals}
    partial, full, over, refunded, credited, voided = deals
    on = date(2026, 11, 20)
    spine.books.pay(invoice[partial]["InvoiceID"], Decimal("100.10"), on)
    spine.books.pay(invoice[full]["InvoiceID"], total[full], on)
    spine.books.overpay(invoice[over]["InvoiceID"], total[over] + Decimal("50.00"), on)
    overpayment = spine.books.overpay(invoice[refunded]["InvoiceID"], total[refunded] + Decimal("20.00"), on)
    spine.books.refund_overpayment(overpayment["Overpayment"]["OverpaymentID"], Decimal("20.00"), on)
    spine.books.credit(invoice[credited]["InvoiceID"], Decimal("30.00"), on)
    spine.books.void(invoice[voided]["InvoiceID"])

    result = spine.pay_invoices()
    assert result["status"] == "completed"
    currency = invoice[partial]["CurrencyCode"]
    assert _deal_money(spine, partial) == ("partially_paid", Decimal("100.10"), total[partial] - Decimal("100.10"), None, currency)
    assert _deal_money(spine, full)[:4] == ("paid", total[full], Decimal("0.00"), "2026-11-20")
    assert _deal_money(spine, over)[:3] == ("paid", total[over], Decimal("0.00"))
    assert _deal_money(spine, refunded)[0] == "paid"
    assert _deal_money(spine, credited)[:3] == (_unpaid(invoice[credited]), Decimal("0"), total[credited] - Decimal("30.00"))
    assert _deal_money(spine, voided)[0] == "voided"
    untouched = next(d for d in spine.eligible_deals() if d not in deals)
    assert _deal_money(spine, untouched)[0] == _unpaid(spine.invoice_for(untouched))


def test_onboarding_fires_once_when_half_is_paid_and_never_again(spine):
    spine.run()
    deal_id = sorted(spine.eligible_deals(), key=int)[0]
    invoice = spine.invoice_for(deal_id)
    half = (Decimal(str(invoice["Total"])) / 2).quantize(Decimal("0.01"))
    spine.books.pay(invoice["InvoiceID"], half - Decimal("0.01"), date(2026, 11, 20))
    assert spine.pay_invoices()["counts"].get("trigger_onboarding", 0) == 0  # 49.99 %: not yet
    spine.books.pay(invoice["InvoiceID"], Decimal("0.01"), date(2026, 11, 21))
    deposit = spine.pay_invoices()["counts"]
    assert deposit["trigger_onboarding"] == 1
    assert deposit["payments_read"] >= 1  # payments are polled too (Xero has no payment webhook)
    spine.books.pay(invoice["InvoiceID"], Decimal("1.00"), date(2026, 11, 22))
    assert spine.pay_invoices()["counts"].get("trigger_onboarding", 0) == 0  # still above: never twice
    store = spine.store()
    assert store.triggers.fired("demo", "payment-to-crm", "onboarding") == [deal_id]
    assert [e.action for e in store.audit.search("demo", deal_id=deal_id)].count("trigger.onboarding") == 1


def test_a_second_payment_run_with_nothing_changed_sends_no_write_calls(spine):
    spine.run()
    first = spine.pay_invoices()
    assert first["counts"]["records_updated"] == len(spine.eligible_deals())
    spine.reset_stats()
    second = spine.pay_invoices()
    assert second["counts"].get("records_updated", 0) == 0
    assert spine.stats("hubspot")["writes"] == 0 and spine.stats("xero")["writes"] == 0
    assert spine.stats("hubspot")["total"] + spine.stats("xero")["total"] <= 3


def test_an_unpaid_invoice_turns_overdue_on_the_day_after_its_due_date_without_changing(spine, monkeypatch):
    import ledgerlink.transforms as transforms

    spine.run()
    spine.pay_invoices()
    deal_id = next(d for d in sorted(spine.eligible_deals(), key=int) if _unpaid(spine.invoice_for(d)) == "awaiting_payment")
    due = date.fromisoformat(spine.invoice_for(deal_id)["_due"])
    assert spine.deal(deal_id)["ledgerlink_invoice_status"] == "awaiting_payment"
    spine.reset_stats()
    monkeypatch.setattr(transforms, "today", lambda tz: due + timedelta(days=1))  # the calendar moves on
    result = spine.pay_invoices()
    assert spine.deal(deal_id)["ledgerlink_invoice_status"] == "overdue"
    assert result["counts"]["records_updated"] >= 1
    assert spine.stats("xero")["calls"].get("GET /api.xro/2.0/Invoices", 0) >= 1
    invoice_id = spine.invoice_for(deal_id)["InvoiceID"]
    later = due + timedelta(days=30)
    assert invoice_id not in spine.store().sync_states.due("demo", "payment-to-crm", later)  # looked at once, not forever
