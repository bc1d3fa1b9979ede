"""Money moves through the emulated Xero books the way it moves through Xero's.

Payments, reversals, overpayments (allocated and refunded), credit notes and voids — over HTTP
and through the Python shortcuts on the books, which share one code path. Every amount is read
back as a Decimal and compared to the cent.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import httpx
import pytest

from connectors.sandbox.jsonio import loads
from connectors.sandbox.timeutil import day_ms, ms_date
from connectors.sandbox.xero_money import Refused

EXCEEDS = "Payment amount exceeds the amount outstanding on this document"


def _contact(sandboxes) -> str:
    return next(iter(sandboxes.xero.default_books.contacts))


def _invoice(xero: httpx.Client, contact_id: str, unit: str = "1000.00", status: str = "AUTHORISED") -> dict:
    """An invoice for `unit` + 15% VAT (R 1 000.00 -> Total 1 150.00)."""
    reply = xero.put("/Invoices", json={"Invoices": [{
        "Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Date": "2026-03-01", "DueDate": "2026-03-31",
        "Status": status, "Reference": f"MONEY-{uuid.uuid4().hex[:8]}",
        "LineItems": [{"Description": "Canvas bell tent", "Quantity": 1, "UnitAmount": unit,
                       "AccountCode": "200", "TaxType": "OUTPUT3"}]}]})
    assert reply.status_code == 200, reply.text
    return loads(reply.content)["Invoices"][0]


def _get(xero: httpx.Client, path: str, key: str) -> dict:
    reply = xero.get(path)
    assert reply.status_code == 200, reply.text
    return loads(reply.content)[key][0]


def _pay(xero: httpx.Client, invoice_id: str, amount: str, day: str = "2026-03-10", **options) -> httpx.Response:
    payment = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": amount, "Date": day}
    return xero.put("/Payments", json={"Payments": [payment]}, **options)


def _since(mark: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mark)) + f".{int(mark * 1000) % 1000:03d}Z"


def test_partial_payment_reduces_amount_due_to_the_cent(xero, sandboxes):
    invoice = _invoice(xero, _contact(sandboxes))
    assert invoice["Total"] == Decimal("1150.00")
    paid = _pay(xero, invoice["InvoiceID"], "333.33")
    assert paid.status_code == 200
    payment = loads(paid.content)["Payments"][0]
    assert (payment["Amount"], payment["PaymentType"], payment["Status"]) == (
        Decimal("333.33"), "ACCRECPAYMENT", "AUTHORISED")
    after = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (after["AmountPaid"], after["AmountDue"], after["Status"]) == (
        Decimal("333.33"), Decimal("816.67"), "AUTHORISED")
    assert [p["PaymentID"] for p in after["Payments"]] == [payment["PaymentID"]]
    assert "FullyPaidOnDate" not in after and after["UpdatedDateUTC"] > invoice["UpdatedDateUTC"]


def test_full_payment_marks_paid_with_fully_paid_on_date(xero, sandboxes):
    invoice = _invoice(xero, _contact(sandboxes))
    assert _pay(xero, invoice["InvoiceID"], "1000.01", "2026-03-10").status_code == 200
    assert _pay(xero, invoice["InvoiceID"], "149.99", "2026-04-05").status_code == 200
    settled = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (settled["Status"], settled["AmountDue"], settled["AmountPaid"]) == (
        "PAID", Decimal("0.00"), Decimal("1150.00"))
    assert settled["FullyPaidOnDate"] == ms_date(day_ms("2026-04-05"))
    assert len(settled["Payments"]) == 2


def test_payment_larger_than_amount_due_is_refused_with_xeros_message(xero, sandboxes):
    books = sandboxes.xero.default_books
    invoice = _invoice(xero, _contact(sandboxes))
    count = len(books.payments)
    refused = _pay(xero, invoice["InvoiceID"], "1150.01")
    assert refused.status_code == 400
    assert refused.json()["Elements"][0]["ValidationErrors"] == [{"Message": EXCEEDS}]
    per_item = _pay(xero, invoice["InvoiceID"], "1150.01", params={"summarizeErrors": "false"})
    assert per_item.status_code == 200
    item = per_item.json()["Payments"][0]
    assert (item["HasValidationErrors"], item["StatusAttributeString"]) == (True, "ERROR")
    together = xero.put("/Payments", json={"Payments": [    # each fits, together they overpay
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": "600.00"},
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": "600.00"}]})
    assert together.status_code == 400
    draft = _invoice(xero, _contact(sandboxes), status="DRAFT")
    assert "Authorised documents" in _pay(xero, draft["InvoiceID"], "10.00").text
    assert "greater than zero" in _pay(xero, invoice["InvoiceID"], "0").text
    assert len(books.payments) == count
    with pytest.raises(Refused) as caught:
        books.pay(invoice["InvoiceNumber"], Decimal("1150.01"))
    assert caught.value.messages == [EXCEEDS]
    with pytest.raises(TypeError):
        books.pay(invoice["InvoiceNumber"], 10.5)     # floats never reach the books


def test_deleting_a_payment_restores_the_invoice(xero, sandboxes):
    invoice = _invoice(xero, _contact(sandboxes))
    payment = loads(_pay(xero, invoice["InvoiceID"], "1150.00").content)["Payments"][0]
    assert _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")["Status"] == "PAID"
    deleted = xero.post(f"/Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert deleted.status_code == 200 and deleted.json()["Payments"][0]["Status"] == "DELETED"
    reopened = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (reopened["Status"], reopened["AmountDue"], reopened["AmountPaid"], reopened["Payments"]) == (
        "AUTHORISED", Decimal("1150.00"), Decimal("0.00"), [])
    assert "FullyPaidOnDate" not in reopened
    assert _get(xero, f"/Payments/{payment['PaymentID']}", "Payments")["Status"] == "DELETED"
    again = sandboxes.xero.default_books.pay(invoice["InvoiceID"], Decimal("150.00"), "2026-03-12")
    sandboxes.xero.default_books.reverse_payment(again["PaymentID"])
    assert sandboxes.xero.default_books.invoice(invoice["InvoiceID"])["AmountDue"] == Decimal("1150.00")


def test_overpayment_is_allocated_and_the_rest_refunded(xero, sandboxes):
    contact = _contact(sandboxes)
    invoice = _invoice(xero, contact)
    created = xero.put("/BankTransactions", json={"BankTransactions": [{
        "Type": "RECEIVE-OVERPAYMENT", "Contact": {"ContactID": contact}, "BankAccount": {"Code": "090"},
        "Date": "2026-03-03", "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Paid twice", "LineAmount": "500.00"}]}]})
    assert created.status_code == 200, created.text
    txn = loads(created.content)["BankTransactions"][0]
    over_id = txn["OverpaymentID"]
    assert over_id == txn["BankTransactionID"] and txn["Total"] == Decimal("500.00")
    overpayment = _get(xero, f"/Overpayments/{over_id}", "Overpayments")
    assert (overpayment["RemainingCredit"], overpayment["Status"]) == (Decimal("500.00"), "AUTHORISED")
    allocated = xero.put(f"/Overpayments/{over_id}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "200.00", "Date": "2026-03-04"}]})
    assert allocated.status_code == 200, allocated.text
    after = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (after["AmountCredited"], after["AmountPaid"], after["AmountDue"]) == (
        Decimal("200.00"), Decimal("0.00"), Decimal("950.00"))
    assert [(o["OverpaymentID"], o["AppliedAmount"]) for o in after["Overpayments"]] == [
        (over_id, Decimal("200.00"))]
    too_much = xero.put("/Payments", json={"Payments": [{"Overpayment": {"OverpaymentID": over_id},
                                                         "Account": {"Code": "090"}, "Amount": "300.01"}]})
    assert too_much.status_code == 400 and EXCEEDS in too_much.text
    refund = xero.put("/Payments", json={"Payments": [{"Overpayment": {"OverpaymentID": over_id},
                                                       "Account": {"Code": "090"}, "Amount": "300.00",
                                                       "Date": "2026-03-05"}]})
    assert refund.status_code == 200 and refund.json()["Payments"][0]["PaymentType"] == "AROVERPAYMENTPAYMENT"
    spent = _get(xero, f"/Overpayments/{over_id}", "Overpayments")
    assert (spent["RemainingCredit"], spent["Status"], len(spent["Payments"]), len(spent["Allocations"])) == (
        Decimal("0.00"), "PAID", 1, 1)


def test_overpay_shortcut_pays_the_invoice_and_keeps_the_excess_as_credit(xero, sandboxes):
    books = sandboxes.xero.default_books
    invoice = _invoice(xero, _contact(sandboxes))
    booked = books.overpay(invoice["InvoiceNumber"], Decimal("1200.00"), "2026-03-20")
    assert booked["Payment"]["Amount"] == Decimal("1150.00")
    over = booked["Overpayment"]
    assert (over["Total"], over["RemainingCredit"], over["Contact"]["ContactID"]) == (
        Decimal("50.00"), Decimal("50.00"), invoice["Contact"]["ContactID"])
    assert _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")["Status"] == "PAID"
    refund = books.refund_overpayment(over["OverpaymentID"], Decimal("20.00"), "2026-03-21")
    assert refund["PaymentType"] == "AROVERPAYMENTPAYMENT"
    assert books.overpayment(over["OverpaymentID"])["RemainingCredit"] == Decimal("30.00")
    with pytest.raises(Refused):
        books.overpay(invoice["InvoiceNumber"], Decimal("10.00"))      # nothing is due any more


def test_credit_note_allocated_in_part_then_in_full(xero, sandboxes):
    contact = _contact(sandboxes)
    invoice = _invoice(xero, contact)
    created = xero.put("/CreditNotes", json={"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": contact}, "Date": "2026-03-06", "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive", "Reference": "Damaged pole",
        "LineItems": [{"Description": "Tent pole", "Quantity": 1, "UnitAmount": "100.00", "AccountCode": "200",
                       "TaxType": "OUTPUT3"}]}]})
    assert created.status_code == 200, created.text
    note = loads(created.content)["CreditNotes"][0]
    assert (note["SubTotal"], note["TotalTax"], note["Total"], note["RemainingCredit"]) == (
        Decimal("100.00"), Decimal("15.00"), Decimal("115.00"), Decimal("115.00"))
    assert note["CreditNoteNumber"].startswith("CN-")
    path = f"/CreditNotes/{note['CreditNoteID']}/Allocations"

    def allocate(amount: str) -> httpx.Response:
        return xero.put(path, json={"Allocations": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                     "Amount": amount, "Date": "2026-03-07"}]})

    assert allocate("15.00").status_code == 200
    after = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (after["AmountCredited"], after["AmountDue"]) == (Decimal("15.00"), Decimal("1135.00"))
    assert [(c["CreditNoteID"], c["AppliedAmount"]) for c in after["CreditNotes"]] == [
        (note["CreditNoteID"], Decimal("15.00"))]
    assert "remaining credit" in allocate("100.01").text                 # more than the note has left
    small = _invoice(xero, contact, unit="10.00")                        # R 11.50 due
    over_due = xero.put(path, json={"Allocations": [{"Invoice": {"InvoiceID": small["InvoiceID"]},
                                                     "Amount": "11.51", "Date": "2026-03-07"}]})
    assert over_due.status_code == 400 and "amount outstanding on the invoice" in over_due.text
    assert allocate("100.00").status_code == 200
    spent = _get(xero, f"/CreditNotes/{note['CreditNoteID']}", "CreditNotes")
    assert (spent["RemainingCredit"], spent["Status"], len(spent["Allocations"])) == (Decimal("0.00"), "PAID", 2)
    assert _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")["CreditNotes"][0]["AppliedAmount"] == \
        Decimal("115.00")


def test_credit_shortcut_settles_an_invoice_in_full(xero, sandboxes):
    books = sandboxes.xero.default_books
    invoice = _invoice(xero, _contact(sandboxes))
    note = books.credit(invoice["InvoiceNumber"], Decimal("1150.00"), "2026-03-25")
    assert (note["Total"], note["TotalTax"], note["RemainingCredit"], note["Status"]) == (
        Decimal("1150.00"), Decimal("150.00"), Decimal("0.00"), "PAID")       # the VAT is reversed too
    settled = _get(xero, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
    assert (settled["Status"], settled["AmountDue"], settled["AmountCredited"]) == (
        "PAID", Decimal("0.00"), Decimal("1150.00"))
    assert settled["FullyPaidOnDate"] == ms_date(day_ms("2026-03-25"))
    count = len(books.credit_notes)
    with pytest.raises(Refused):
        books.credit(invoice["InvoiceNumber"], Decimal("1.00"))            # nothing left to credit
    assert len(books.credit_notes) == count                                # and no stray note left behind


def test_void_is_allowed_without_payments_and_refused_with_them(xero, sandboxes):
    contact = _contact(sandboxes)
    unpaid = _invoice(xero, contact)
    voided = xero.post(f"/Invoices/{unpaid['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert voided.status_code == 200
    after = loads(voided.content)["Invoices"][0]
    assert after["Status"] == "VOIDED" and after["UpdatedDateUTC"] > unpaid["UpdatedDateUTC"]
    paid = _invoice(xero, contact)
    payment = loads(_pay(xero, paid["InvoiceID"], "100.00").content)["Payments"][0]
    refused = xero.post(f"/Invoices/{paid['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert refused.status_code == 400 and "payments applied" in refused.text
    credited = _invoice(xero, contact)
    sandboxes.xero.default_books.credit(credited["InvoiceID"], Decimal("10.00"))
    with pytest.raises(Refused, match="credit notes or overpayments"):
        sandboxes.xero.default_books.void(credited["InvoiceID"])
    xero.post(f"/Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert sandboxes.xero.default_books.void(paid["InvoiceNumber"])["Status"] == "VOIDED"
    draft = _invoice(xero, contact, status="DRAFT")
    not_voidable = xero.post(f"/Invoices/{draft['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert not_voidable.status_code == 400                     # drafts are deleted, not voided
    deleted = xero.post(f"/Invoices/{draft['InvoiceID']}", json={"Invoices": [{"Status": "DELETED"}]})
    assert deleted.status_code == 200 and deleted.json()["Invoices"][0]["Status"] == "DELETED"


def test_if_modified_since_returns_only_records_changed_since(xero, sandboxes):
    contact = _contact(sandboxes)
    touched, untouched = _invoice(xero, contact), _invoice(xero, contact)
    time.sleep(0.01)
    mark = time.time()
    time.sleep(0.01)
    payment = loads(_pay(xero, touched["InvoiceID"], "50.00").content)["Payments"][0]
    headers = {"If-Modified-Since": _since(mark)}
    invoices = xero.get("/Invoices", headers=headers).json()["Invoices"]
    assert [i["InvoiceID"] for i in invoices] == [touched["InvoiceID"]]
    assert untouched["InvoiceID"] not in {i["InvoiceID"] for i in invoices}
    payments = xero.get("/Payments", params={"page": 1}, headers=headers).json()["Payments"]
    assert [p["PaymentID"] for p in payments] == [payment["PaymentID"]]
    time.sleep(0.01)
    second = time.time()
    time.sleep(0.01)
    xero.post(f"/Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    later = {"If-Modified-Since": _since(second)}
    assert [(p["PaymentID"], p["Status"]) for p in xero.get("/Payments", headers=later).json()["Payments"]] == [
        (payment["PaymentID"], "DELETED")]
    changed = xero.get("/Invoices", headers=later).json()["Invoices"]
    assert [i["InvoiceID"] for i in changed] == [touched["InvoiceID"]]
    where = xero.get("/Payments", params={"where": f'Invoice.InvoiceID==guid("{touched["InvoiceID"]}")'})
    assert [p["PaymentID"] for p in where.json()["Payments"]] == [payment["PaymentID"]]


def test_idempotent_replay_of_a_payment_creates_nothing(xero, sandboxes):
    books = sandboxes.xero.default_books
    invoice = _invoice(xero, _contact(sandboxes))
    key = {"Idempotency-Key": f"pay-{invoice['InvoiceID']}"}
    first = _pay(xero, invoice["InvoiceID"], "400.00", headers=key)
    count = len(books.payments)
    again = _pay(xero, invoice["InvoiceID"], "400.00", headers=key)
    assert again.status_code == 200 and again.content == first.content and len(books.payments) == count
    assert books.invoice(invoice["InvoiceID"])["AmountPaid"] == Decimal("400.00")
    other = _pay(xero, invoice["InvoiceID"], "1.00", headers=key)
    assert other.status_code == 400 and "already used" in other.text
    sandboxes.xero.faults.add_rule("commit_then_fail", "/api.xro/2.0/Payments", "PUT", status=504)
    retry = {"Idempotency-Key": f"pay-2-{invoice['InvoiceID']}"}
    assert _pay(xero, invoice["InvoiceID"], "100.00", headers=retry).status_code == 504     # booked, reply lost
    assert _pay(xero, invoice["InvoiceID"], "100.00", headers=retry).status_code == 200
    assert books.invoice(invoice["InvoiceID"])["AmountPaid"] == Decimal("500.00")


def test_money_routes_are_writes_under_the_limits(fresh, make_xero_client):
    sb = fresh(seed=3, deals=4, xero_limits={"per_minute": 5})     # the invoice takes one call
    books = sb.xero.default_books
    contact = next(iter(books.contacts))
    with make_xero_client(sb) as client:
        invoice = _invoice(client, contact)
        sb.reset_stats()
        replies = [_pay(client, invoice["InvoiceID"], "10.00") for _ in range(5)]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 429]
    stats = sb.xero.stats.snapshot()
    assert stats["writes"] == 4 and stats["rate_limited"] == 1
    assert books.invoice(invoice["InvoiceID"])["AmountPaid"] == Decimal("40.00")


def test_money_movements_survive_a_restart(fresh, tmp_path, make_xero_client):
    path = tmp_path / "money-state.json"
    first = fresh(state_path=path, seed=5, deals=4, limits=False)
    books = first.xero.default_books
    with make_xero_client(first) as client:
        invoice = _invoice(client, next(iter(books.contacts)))
    books.pay(invoice["InvoiceID"], Decimal("100.10"), "2026-03-02")
    note = books.credit(invoice["InvoiceID"], Decimal("49.90"), "2026-03-03")
    over = books.overpay(invoice["InvoiceID"], Decimal("1000.25"), "2026-03-04")["Overpayment"]
    first.stop()
    second = fresh(state_path=path, seed=5, deals=4, limits=False)
    with make_xero_client(second) as client:
        again = _get(client, f"/Invoices/{invoice['InvoiceID']}", "Invoices")
        assert (again["Status"], again["AmountPaid"], again["AmountCredited"]) == (
            "PAID", Decimal("1100.10"), Decimal("49.90"))
        assert len(again["Payments"]) == 2 and len(again["CreditNotes"]) == 1
        assert _get(client, f"/Overpayments/{over['OverpaymentID']}", "Overpayments")["RemainingCredit"] == \
            Decimal("0.25")
        assert _get(client, f"/CreditNotes/{note['CreditNoteID']}", "CreditNotes")["Status"] == "PAID"
        other = _invoice(client, next(iter(second.xero.default_books.contacts)))
    assert len(second.xero.default_books.credit_notes) == 1
    numbered = second.xero.default_books.credit(other["InvoiceID"], Decimal("1.00"))["CreditNoteNumber"]
    assert numbered != note["CreditNoteNumber"]         # numbering carries on after the restart
