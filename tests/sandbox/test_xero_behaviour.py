"""The Xero emulator keeps Xero's rules: token rotation, partial batches, idempotency, limits."""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import httpx

from connectors.sandbox.jsonio import loads


def _invoice(contact_id: str, **overrides) -> dict:
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Date": "2026-03-31",
               "DueDate": "2026-04-30", "Status": "AUTHORISED", "Reference": f"DEAL-{uuid.uuid4().hex[:10]}",
               "LineItems": [{"Description": "Folding camp chair", "Quantity": 3, "UnitAmount": "649.00",
                              "AccountCode": "200", "TaxType": "OUTPUT3"}]}
    invoice.update(overrides)
    return invoice


def _contact(sandboxes) -> str:
    return next(iter(sandboxes.xero.default_books.contacts))


def _refresh(sb, refresh_token: str) -> httpx.Response:
    return httpx.post(sb.xero_token_url, auth=(sb.xero_client_id, sb.xero_client_secret),
                      data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_refresh_rotates_and_the_used_token_stops_working(fresh):
    sb = fresh(limits=False)
    first = _refresh(sb, "rt-sandbox-0")
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["refresh_token"] != "rt-sandbox-0" and sb.xero_refresh_token == body["refresh_token"]
    reused = _refresh(sb, "rt-sandbox-0")
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant"}
    wrong_secret = httpx.post(sb.xero_token_url, data={"grant_type": "refresh_token", "client_id": "sandbox-client",
                                                       "client_secret": "nope", "refresh_token": body["refresh_token"]})
    assert wrong_secret.json() == {"error": "invalid_client"}
    second = _refresh(sb, body["refresh_token"])
    api = httpx.get(f"{sb.xero_api_url}/Organisation", headers={
        "Authorization": f"Bearer {second.json()['access_token']}", "xero-tenant-id": sb.xero_tenant_id})
    assert api.status_code == 200 and api.json()["Organisations"][0]["CountryCode"] == "ZA"


def test_access_tokens_expire_on_time_scale_and_on_demand(fresh):
    sb = fresh(limits=False, time_scale=3600)          # 30 minutes last half a second
    token = _refresh(sb, "rt-sandbox-0").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": sb.xero_tenant_id}
    assert httpx.get(f"{sb.xero_api_url}/Organisation", headers=headers).status_code == 200
    time.sleep(0.6)
    expired = httpx.get(f"{sb.xero_api_url}/Organisation", headers=headers)
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired: token expired at")
    sb.set_limits(time_scale=1.0)
    fresh_token = sb.xero_access_token()
    headers["Authorization"] = f"Bearer {fresh_token}"
    assert httpx.post(f"{sb.xero_url}/_sandbox/xero/expire-tokens").json()["expired"] >= 1
    assert httpx.get(f"{sb.xero_api_url}/Organisation", headers=headers).status_code == 401


def test_partial_batch_saves_valid_elements_and_flags_the_rest(xero, sandboxes):
    contact = _contact(sandboxes)
    good, bad = _invoice(contact), _invoice(contact, LineItems=[
        {"Description": "Old VAT", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200", "TaxType": "OUTPUT"}])
    reply = xero.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [good, bad]})
    assert reply.status_code == 200
    saved, refused = reply.json()["Invoices"]
    assert (saved["StatusAttributeString"], saved["HasErrors"], saved["ValidationErrors"]) == ("OK", False, [])
    assert refused["StatusAttributeString"] == "ERROR" and refused["HasErrors"] is True
    assert "TaxType code OUTPUT" in refused["ValidationErrors"][0]["Message"]
    assert refused["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    found = xero.get("/Invoices", params={"where": f'Reference=="{bad["Reference"]}"', "page": 1})
    assert found.json()["Invoices"] == []
    assert xero.get(f"/Invoices/{saved['InvoiceID']}").status_code == 200


def test_summarized_errors_reject_the_whole_batch(xero, sandboxes):
    before = len(sandboxes.xero.default_books.invoices)
    contact = _contact(sandboxes)
    reply = xero.put("/Invoices", json={"Invoices": [_invoice(contact), _invoice(contact, DueDate=None)]})
    assert reply.status_code == 400
    body = reply.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10, "ValidationException", "A validation exception occurred")
    assert body["Elements"][1]["ValidationErrors"][0]["Message"].startswith("Due Date is required")
    assert len(sandboxes.xero.default_books.invoices) == before


def test_idempotency_key_replays_and_creates_nothing_new(xero, sandboxes):
    books = sandboxes.xero.default_books
    body = {"Invoices": [_invoice(_contact(sandboxes))]}
    first = xero.put("/Invoices", json=body, headers={"Idempotency-Key": "deal-77-v1"})
    count = len(books.invoices)
    again = xero.put("/Invoices", json=body, headers={"Idempotency-Key": "deal-77-v1"})
    assert again.status_code == 200 and again.content == first.content
    assert len(books.invoices) == count
    other = xero.put("/Invoices", json={"Invoices": [_invoice(_contact(sandboxes))]},
                     headers={"Idempotency-Key": "deal-77-v1"})
    assert other.status_code == 400 and "already used" in other.text
    too_long = xero.put("/Invoices", json=body, headers={"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400 and len(books.invoices) == count


def test_commit_then_fail_is_recovered_by_replaying_the_same_key(xero, sandboxes):
    books = sandboxes.xero.default_books
    sandboxes.xero.faults.add_rule("commit_then_fail", "/api.xro/2.0/Invoices", "PUT", status=504)
    body = {"Invoices": [_invoice(_contact(sandboxes))]}
    count = len(books.invoices)
    lost = xero.put("/Invoices", json=body, headers={"Idempotency-Key": "deal-78-v1"})
    assert lost.status_code == 504 and len(books.invoices) == count + 1   # committed, client never knew
    retried = xero.put("/Invoices", json=body, headers={"Idempotency-Key": "deal-78-v1"})
    assert retried.status_code == 200 and len(books.invoices) == count + 1
    assert retried.json()["Invoices"][0]["Reference"] == body["Invoices"][0]["Reference"]


def test_amounts_are_computed_like_xero(xero, sandboxes):
    contact = _contact(sandboxes)
    lines = [{"Description": "Tent", "Quantity": 2, "UnitAmount": "999.99", "AccountCode": "200",
              "TaxType": "OUTPUT3", "DiscountRate": 12.5},
             {"Description": "Maize", "Quantity": "3.5", "UnitAmount": "129.90", "AccountCode": "200",
              "TaxType": "ZERORATED"}]
    results = {}
    for mode in ("Exclusive", "Inclusive", "NoTax"):
        reply = xero.put("/Invoices", json={"Invoices": [_invoice(contact, LineAmountTypes=mode, LineItems=lines)]})
        results[mode] = loads(reply.content)["Invoices"][0]
    exclusive = results["Exclusive"]
    assert [li["LineAmount"] for li in exclusive["LineItems"]] == [Decimal("1749.98"), Decimal("454.65")]
    assert [li["TaxAmount"] for li in exclusive["LineItems"]] == [Decimal("262.50"), Decimal("0.00")]
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"], exclusive["AmountDue"]) == (
        Decimal("2204.63"), Decimal("262.50"), Decimal("2467.13"), Decimal("2467.13"))
    inclusive = results["Inclusive"]
    assert inclusive["LineItems"][0]["TaxAmount"] == Decimal("228.26")    # 1749.98 × 15/115
    assert inclusive["Total"] == Decimal("2204.63") and inclusive["SubTotal"] == Decimal("1976.37")
    assert results["NoTax"]["TotalTax"] == Decimal("0.00")
    assert all(li["TaxType"] == "NONE" for li in results["NoTax"]["LineItems"])
    assert exclusive["InvoiceNumber"].startswith("INV-") and exclusive["Date"].startswith("/Date(")
    assert exclusive["DateString"] == "2026-03-31T00:00:00"


def test_validation_matches_xero_rules(xero, sandboxes):
    contact = _contact(sandboxes)
    cases = {
        "Organisation is not subscribed to currency EUR": _invoice(contact, CurrencyCode="EUR"),
        "Account code '999' is not a valid code": _invoice(contact, LineItems=[
            {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999", "TaxType": "OUTPUT3"}]),
        "could not be found": _invoice(str(uuid.uuid4())),
        "DiscountRate must be between 0 and 100": _invoice(contact, LineItems=[
            {"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200", "DiscountRate": 120}]),
        "Quantity must be a number": _invoice(contact, LineItems=[
            {"Description": "x", "Quantity": "two", "UnitAmount": 1, "AccountCode": "200"}]),
        "At least one line item": _invoice(contact, LineItems=[]),
    }
    for expected, invoice in cases.items():
        reply = xero.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [invoice]})
        messages = [e["Message"] for e in reply.json()["Invoices"][0]["ValidationErrors"]]
        assert any(expected in m for m in messages), (expected, messages)


def test_duplicate_contact_name_uses_xero_wording(xero, sandboxes):
    name = next(iter(sandboxes.xero.default_books.contacts.values()))["Name"]
    reply = xero.put("/Contacts", json={"Contacts": [{"Name": name.upper()}]})
    assert reply.status_code == 400
    message = reply.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    assert message == (f"The contact name {name.upper()} is already assigned to another contact. "
                       f"The contact name must be unique across all active contacts.")


def test_where_filters_modified_since_and_paging(xero, sandboxes):
    contact = _contact(sandboxes)
    mark = time.time()
    time.sleep(0.01)
    refs = []
    for _ in range(3):
        invoice = _invoice(contact)
        refs.append(invoice["Reference"])
        xero.put("/Invoices", json={"Invoices": [invoice]})
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mark)) + f".{int(mark * 1000) % 1000:03d}Z"
    page = xero.get("/Invoices", params={"page": 1, "pageSize": 2}, headers={"If-Modified-Since": since}).json()
    assert page["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 2, "itemCount": 3}
    second = xero.get("/Invoices", params={"page": 2, "pageSize": 2}, headers={"If-Modified-Since": since}).json()
    both = page["Invoices"] + second["Invoices"]
    assert sorted(i["Reference"] for i in both) == sorted(refs)     # same-ms writes tie: order by id
    stamps = [int(i["UpdatedDateUTC"][6:-7]) for i in both]
    assert stamps == sorted(stamps)
    where = (f'Contact.ContactID==guid("{contact}") AND (Reference=="{refs[0]}" OR Reference=="{refs[2]}") '
             f'AND Date>=DateTime(2026,03,31) AND Status!="DRAFT"')
    found = xero.get("/Invoices", params={"where": where, "page": 1}).json()["Invoices"]
    assert sorted(i["Reference"] for i in found) == sorted([refs[0], refs[2]])
    broken = xero.get("/Invoices", params={"where": "Reference = = 1"})
    assert broken.status_code == 400 and broken.json()["Type"] == "QueryParseException"
    unknown = xero.get("/Invoices", params={"where": 'Colour=="red"'})
    assert "No property or field 'Colour'" in unknown.json()["Message"]


def test_payment_settles_invoice_and_overpayment_is_refused(xero, sandboxes):
    invoice = xero.put("/Invoices", json={"Invoices": [_invoice(_contact(sandboxes))]}).json()["Invoices"][0]
    due = Decimal(str(invoice["AmountDue"]))
    part = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                     "Account": {"Code": "090"}, "Amount": "100.00",
                                                     "Date": "2026-04-02"}]})
    assert part.status_code == 200
    too_much = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceNumber": invoice["InvoiceNumber"]},
                                                         "Account": {"Code": "090"}, "Amount": str(due)}]})
    assert too_much.status_code == 400
    rest = xero.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                     "Account": {"Code": "090"}, "Amount": str(due - 100),
                                                     "Date": "2026-04-05"}]})
    assert rest.status_code == 200
    settled = loads(xero.get(f"/Invoices/{invoice['InvoiceID']}").content)["Invoices"][0]
    assert settled["Status"] == "PAID" and settled["AmountDue"] == Decimal("0.00")
    assert settled["AmountPaid"] == due and settled["FullyPaidOnDate"] == "/Date(1775347200000+0000)/"
    assert len(settled["Payments"]) == 2


def test_minute_limit_answers_429_with_problem_and_retry_after(fresh, make_xero_client):
    sb = fresh(time_scale=60, xero_limits={"per_minute": 3})     # a minute lasts one second
    with make_xero_client(sb) as client:
        replies = [client.get("/Organisation") for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert [r.headers["X-MinLimit-Remaining"] for r in replies[:3]] == ["2", "1", "0"]
    assert replies[0].headers["X-DayLimit-Remaining"] == "4999"
    assert replies[0].headers["X-AppMinLimit-Remaining"] == "9999"
    assert replies[3].headers["X-Rate-Limit-Problem"] == "minute"
    assert replies[3].headers["Retry-After"] == "1"
    assert sb.xero.stats.snapshot()["rate_limited"] == 1


def test_concurrent_limit_refuses_the_sixth_call_in_flight(fresh, make_xero_client):
    sb = fresh(latency_s=0.4)
    statuses: list[httpx.Response] = []
    with make_xero_client(sb) as client:
        threads = [threading.Thread(target=lambda: statuses.append(client.get("/Currencies"))) for _ in range(7)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    refused = [r for r in statuses if r.status_code == 429]
    assert len(refused) == 2 and sum(r.status_code == 200 for r in statuses) == 5
    assert refused[0].headers["X-Rate-Limit-Problem"] == "concurrent"
