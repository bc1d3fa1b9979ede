"""Every emulated Xero Accounting route, validated against Xero's OpenAPI document (16.1.0).

Requests and responses go over real HTTP and are checked with openapi-core. The only allowance
is in conftest: Xero's document fails OpenAPI's own schema self-check (boolean defaults written
as the string 'false'), so that self-check is off; every request and response below is still
validated against its schemas. Microsoft JSON dates ("/Date(…+0000)/") need no allowance — the
spec types them as plain strings marked x-is-msdate. Responses the spec does not document (e.g.
a 400 on GET /Invoices) are asserted by shape in the behaviour tests instead.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

# openapi-core cannot evaluate OAuth2 security schemes and says so with this warning; bearer
# auth is exercised by the 401/403 tests instead.
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

HOST = "https://api.xero.com"
XERO = "xero/xero_accounting.yaml"


def _invoice(contact_id: str, **overrides) -> dict:
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Date": "2026-01-31",
               "DueDate": "2026-02-28", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
               "Reference": f"contract-{uuid.uuid4().hex[:8]}",
               "LineItems": [{"Description": "Canvas bell tent 5 m", "Quantity": 2, "UnitAmount": 8999.0,
                              "AccountCode": "200", "TaxType": "OUTPUT3", "DiscountRate": 10}]}
    invoice.update(overrides)
    return invoice


def _contact_id(sandboxes) -> str:
    return next(iter(sandboxes.xero.default_books.contacts))


def test_reference_data_matches_spec(xero, spec_check):
    for path in ("/Organisation", "/TaxRates", "/Accounts", "/Currencies"):
        response = xero.get(path)
        assert response.status_code == 200, path
        spec_check(XERO, HOST, response)
    active = xero.get("/TaxRates", params={"where": 'Status=="ACTIVE"'})
    spec_check(XERO, HOST, active)
    assert "OUTPUT" not in {t["TaxType"] for t in active.json()["TaxRates"]}


def test_contact_routes_match_spec(xero, spec_check, sandboxes):
    listed = xero.get("/Contacts", params={"page": 1, "pageSize": 2})
    assert listed.status_code == 200 and listed.json()["pagination"]["pageSize"] == 2
    spec_check(XERO, HOST, listed)
    one = xero.get(f"/Contacts/{_contact_id(sandboxes)}")
    assert one.status_code == 200
    spec_check(XERO, HOST, one)
    name = f"Contract Test {uuid.uuid4().hex[:6]} (Pty) Ltd"
    created = xero.put("/Contacts", json={"Contacts": [{"Name": name, "EmailAddress": "a@b.example.co.za",
                                                         "TaxNumber": "4123456789"}]})
    assert created.status_code == 200
    spec_check(XERO, HOST, created)
    duplicate = xero.put("/Contacts", json={"Contacts": [{"Name": name}]})
    assert duplicate.status_code == 400
    spec_check(XERO, HOST, duplicate)
    mixed = xero.post("/Contacts", params={"summarizeErrors": "false"},
                      json={"Contacts": [{"Name": name + " 2"}, {"Name": name}]})
    assert mixed.status_code == 200
    spec_check(XERO, HOST, mixed)


def test_invoice_routes_match_spec(xero, spec_check, sandboxes):
    contact_id = _contact_id(sandboxes)
    created = xero.put("/Invoices", json={"Invoices": [_invoice(contact_id)]})
    assert created.status_code == 200
    spec_check(XERO, HOST, created)
    invoice_id = created.json()["Invoices"][0]["InvoiceID"]
    listed = xero.get("/Invoices", params={"page": 1, "pageSize": 10, "Statuses": "AUTHORISED"},
                      headers={"If-Modified-Since": "2020-01-01T00:00:00Z"})
    assert listed.status_code == 200
    spec_check(XERO, HOST, listed)
    one = xero.get(f"/Invoices/{invoice_id}")
    spec_check(XERO, HOST, one)
    updated = xero.post("/Invoices", json={"Invoices": [{"InvoiceID": invoice_id, "Reference": "updated"}]})
    assert updated.status_code == 200
    spec_check(XERO, HOST, updated)
    single = xero.post(f"/Invoices/{invoice_id}", json={"Invoices": [{"Reference": "updated again"}]})
    assert single.status_code == 200
    spec_check(XERO, HOST, single)
    refused = xero.put("/Invoices", json={"Invoices": [_invoice(contact_id, CurrencyCode="EUR")]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)
    partial = xero.put("/Invoices", params={"summarizeErrors": "false"},
                       json={"Invoices": [_invoice(contact_id), _invoice(contact_id, CurrencyCode="EUR")]})
    assert partial.status_code == 200
    spec_check(XERO, HOST, partial)


def test_payment_routes_match_spec(xero, spec_check, sandboxes):
    invoice = xero.put("/Invoices", json={"Invoices": [_invoice(_contact_id(sandboxes))]}).json()["Invoices"][0]
    paid = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                     "Account": {"Code": "090"}, "Date": "2026-02-10",
                                                     "Amount": 100.0}]})
    assert paid.status_code == 200
    spec_check(XERO, HOST, paid)
    listed = xero.get("/Payments", params={"page": 1})
    spec_check(XERO, HOST, listed)
    payment_id = paid.json()["Payments"][0]["PaymentID"]
    one = xero.get(f"/Payments/{payment_id}")
    spec_check(XERO, HOST, one)
    deleted = xero.post(f"/Payments/{payment_id}", json={"Status": "DELETED"})
    assert deleted.status_code == 200 and deleted.json()["Payments"][0]["Status"] == "DELETED"
    spec_check(XERO, HOST, deleted)
    refused = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                        "Account": {"Code": "090"}, "Amount": 10 ** 7}]})
    assert refused.status_code == 400
    spec_check(XERO, HOST, refused)


def test_auth_failures_use_xero_problem_bodies(sandboxes):
    unauthorised = httpx.get(f"{sandboxes.xero_api_url}/Invoices",
                             headers={"xero-tenant-id": sandboxes.xero_tenant_id})
    assert unauthorised.status_code == 401
    assert unauthorised.json() | {"Instance": None} == {
        "Type": None, "Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful",
        "Instance": None, "Extensions": {}}
    forbidden = httpx.get(f"{sandboxes.xero_api_url}/Invoices",
                          headers={"Authorization": f"Bearer {sandboxes.xero_access_token()}",
                                   "xero-tenant-id": str(uuid.uuid4())})
    assert forbidden.status_code == 403 and forbidden.json()["Title"] == "Forbidden"
