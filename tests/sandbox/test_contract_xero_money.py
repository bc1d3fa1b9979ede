"""The money-movement routes of the Xero emulator, validated against Xero's OpenAPI document (16.1.0).

Payments (and refunds), RECEIVE-OVERPAYMENT bank transactions, overpayments, credit notes,
allocations and voids: each request and response goes over real HTTP and is checked with
openapi-core, with the allowances documented in test_contract_xero.py and conftest (only the
document's own self-check is off). Requests are written as the spec has them — e.g. allocations
always carry Date (required there), refunds never send PaymentType (read-only there), and
POST /Invoices/{id} sends {"Invoices": [{"Status": "VOIDED"}]}.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

HOST = "https://api.xero.com"
XERO = "xero/xero_accounting.yaml"


def _contact_id(sandboxes) -> str:
    return next(iter(sandboxes.xero.default_books.contacts))


def _invoice(xero, contact_id: str) -> dict:
    reply = xero.put("/Invoices", json={"Invoices": [{
        "Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Date": "2026-02-01", "DueDate": "2026-02-28",
        "Status": "AUTHORISED", "Reference": f"contract-money-{uuid.uuid4().hex[:8]}",
        "LineItems": [{"Description": "Gas braai", "Quantity": 1, "UnitAmount": 2000.0, "AccountCode": "200",
                       "TaxType": "OUTPUT3"}]}]})
    assert reply.status_code == 200
    return reply.json()["Invoices"][0]


def _since(mark: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mark)) + "Z"


def test_payment_routes_match_spec(xero, spec_check, sandboxes):
    invoice = _invoice(xero, _contact_id(sandboxes))
    mark = time.time() - 1
    single = xero.post("/Payments", json={"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                          "Account": {"Code": "090"}, "Date": "2026-02-10", "Amount": 100.0,
                                          "Reference": "EFT 1"})
    assert single.status_code == 200
    spec_check(XERO, HOST, single)
    batch = xero.put("/Payments", params={"summarizeErrors": "false"}, json={"Payments": [
        {"Invoice": {"InvoiceNumber": invoice["InvoiceNumber"]}, "Account": {"Code": "090"}, "Date": "2026-02-11",
         "Amount": 200.0},
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 10 ** 6}]})
    assert batch.status_code == 200 and batch.json()["Payments"][1]["HasValidationErrors"] is True
    spec_check(XERO, HOST, batch)
    refused = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                        "Account": {"Code": "090"}, "Amount": 10 ** 6}]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)
    listed = xero.get("/Payments", params={"page": 1, "pageSize": 5, "order": "UpdatedDateUTC ASC",
                                           "where": 'Status=="AUTHORISED"'},
                      headers={"If-Modified-Since": _since(mark)})
    assert listed.status_code == 200 and listed.json()["Payments"]
    spec_check(XERO, HOST, listed)
    payment_id = single.json()["Payments"][0]["PaymentID"]
    deleted = xero.post(f"/Payments/{payment_id}", json={"Status": "DELETED"},
                        headers={"Idempotency-Key": f"delete-{payment_id}"})
    assert deleted.status_code == 200
    spec_check(XERO, HOST, deleted)
    one = xero.get(f"/Payments/{payment_id}")
    assert one.json()["Payments"][0]["Status"] == "DELETED"
    spec_check(XERO, HOST, one)


def test_invoice_with_money_moved_and_void_match_spec(xero, spec_check, sandboxes):
    books = sandboxes.xero.default_books
    invoice = _invoice(xero, _contact_id(sandboxes))
    books.pay(invoice["InvoiceID"], Decimal("100.00"))
    books.credit(invoice["InvoiceID"], Decimal("50.00"))
    moved = xero.get(f"/Invoices/{invoice['InvoiceID']}")
    body = moved.json()["Invoices"][0]
    assert body["Payments"] and body["CreditNotes"]
    spec_check(XERO, HOST, moved)
    refused = xero.post(f"/Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)
    clean = _invoice(xero, _contact_id(sandboxes))
    voided = xero.post(f"/Invoices/{clean['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert voided.status_code == 200 and voided.json()["Invoices"][0]["Status"] == "VOIDED"
    spec_check(XERO, HOST, voided)


def test_overpayment_routes_match_spec(xero, spec_check, sandboxes):
    contact = _contact_id(sandboxes)
    invoice = _invoice(xero, contact)
    mark = time.time() - 1
    reference = f"OVER-{uuid.uuid4().hex[:6]}"
    created = xero.put("/BankTransactions", json={"BankTransactions": [{
        "Type": "RECEIVE-OVERPAYMENT", "Contact": {"ContactID": contact}, "BankAccount": {"Code": "090"},
        "Date": "2026-02-12", "Reference": reference, "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Paid twice", "LineAmount": 700.0}]}]})
    assert created.status_code == 200
    spec_check(XERO, HOST, created)
    over_id = created.json()["BankTransactions"][0]["OverpaymentID"]
    refused = xero.put("/BankTransactions", json={"BankTransactions": [{
        "Type": "SPEND", "Contact": {"ContactID": contact}, "BankAccount": {"Code": "200"},
        "LineItems": [{"Description": "x", "UnitAmount": 1.0}]}]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)
    changed = xero.get("/BankTransactions", params={"page": 1}, headers={"If-Modified-Since": _since(mark)})
    for response in (changed, xero.get(f"/BankTransactions/{over_id}")):
        assert response.status_code == 200
        spec_check(XERO, HOST, response)
    target = {"InvoiceID": invoice["InvoiceID"]}
    allocated = xero.put(f"/Overpayments/{over_id}/Allocations", params={"summarizeErrors": "false"},
                         json={"Allocations": [{"Invoice": target, "Amount": 300.0, "Date": "2026-02-13"},
                                               {"Invoice": target, "Amount": 9999.0, "Date": "2026-02-13"}]})
    assert allocated.status_code == 200
    assert [a.get("StatusAttributeString") for a in allocated.json()["Allocations"]] == ["OK", "ERROR"]
    spec_check(XERO, HOST, allocated)
    too_much = xero.put(f"/Overpayments/{over_id}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 9999.0, "Date": "2026-02-13"}]})
    assert too_much.status_code == 400
    spec_check(XERO, HOST, too_much)
    refund = xero.put("/Payments", json={"Payments": [{"Overpayment": {"OverpaymentID": over_id},
                                                       "Account": {"Code": "090"}, "Date": "2026-02-14",
                                                       "Amount": 400.0}]})
    assert refund.status_code == 200 and refund.json()["Payments"][0]["PaymentType"] == "AROVERPAYMENTPAYMENT"
    spec_check(XERO, HOST, refund)
    listed = xero.get("/Overpayments", params={"page": 1, "pageSize": 10, "References": reference,
                                               "where": 'Status=="PAID"'},
                      headers={"If-Modified-Since": _since(mark)})
    assert [o["OverpaymentID"] for o in listed.json()["Overpayments"]] == [over_id]
    spec_check(XERO, HOST, listed)
    one = xero.get(f"/Overpayments/{over_id}")
    spec_check(XERO, HOST, one)


def test_credit_note_routes_match_spec(xero, spec_check, sandboxes):
    contact = _contact_id(sandboxes)
    invoice = _invoice(xero, contact)
    note = {"Type": "ACCRECCREDIT", "Contact": {"ContactID": contact}, "Date": "2026-02-15",
            "Status": "AUTHORISED", "Reference": f"credit-{uuid.uuid4().hex[:6]}", "CurrencyCode": "ZAR",
            "LineAmountTypes": "Inclusive",
            "LineItems": [{"Description": "Returned grid", "Quantity": 1, "UnitAmount": 230.0,
                           "AccountCode": "200", "TaxType": "OUTPUT3"}]}
    created = xero.put("/CreditNotes", json={"CreditNotes": [note]})
    assert created.status_code == 200
    spec_check(XERO, HOST, created)
    note_id = created.json()["CreditNotes"][0]["CreditNoteID"]
    refused = xero.put("/CreditNotes", json={"CreditNotes": [{**note, "CurrencyCode": "EUR"}]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)
    draft = xero.post("/CreditNotes", params={"summarizeErrors": "false"},
                      json={"CreditNotes": [{**note, "Status": "DRAFT"},
                                            {**note, "Contact": {"ContactID": str(uuid.uuid4())}}]})
    assert draft.status_code == 200
    spec_check(XERO, HOST, draft)
    approved = xero.post(f"/CreditNotes/{draft.json()['CreditNotes'][0]['CreditNoteID']}",
                         json={"CreditNotes": [{"Status": "AUTHORISED"}]})
    assert approved.status_code == 200 and approved.json()["CreditNotes"][0]["Status"] == "AUTHORISED"
    spec_check(XERO, HOST, approved)
    allocated = xero.put(f"/CreditNotes/{note_id}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 30.0, "Date": "2026-02-16"}]},
        headers={"Idempotency-Key": f"alloc-{note_id}"})
    assert allocated.status_code == 200
    spec_check(XERO, HOST, allocated)
    too_much = xero.put(f"/CreditNotes/{note_id}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 201.0, "Date": "2026-02-16"}]})
    assert too_much.status_code == 400
    spec_check(XERO, HOST, too_much)
    refund = xero.put("/Payments", json={"Payments": [{"CreditNote": {"CreditNoteID": note_id},
                                                       "Account": {"Code": "090"}, "Date": "2026-02-17",
                                                       "Amount": 50.0}]})
    assert refund.status_code == 200 and refund.json()["Payments"][0]["PaymentType"] == "ARCREDITPAYMENT"
    spec_check(XERO, HOST, refund)
    listed = xero.get("/CreditNotes", params={"page": 1, "pageSize": 5, "where": 'Type=="ACCRECCREDIT"'},
                      headers={"If-Modified-Since": "2020-01-01T00:00:00Z"})
    assert listed.status_code == 200 and listed.json()["CreditNotes"]
    spec_check(XERO, HOST, listed)
    one = xero.get(f"/CreditNotes/{note_id}")
    assert one.json()["CreditNotes"][0]["RemainingCredit"] == 150.0
    spec_check(XERO, HOST, one)
    missing = xero.put(f"/CreditNotes/{uuid.uuid4()}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 1.0, "Date": "2026-02-16"}]})
    assert missing.status_code == 404
