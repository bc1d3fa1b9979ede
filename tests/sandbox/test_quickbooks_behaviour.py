"""The QuickBooks Online emulator behaves as QBO does where integrations get hurt: the query
language, batches and their partial faults, requestid replays, SyncToken conflicts, CDC windows and
truncation, throttling, voids, payments and credit memos, OAuth rotation — over real HTTP."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from connectors.sandbox import jsonio
from connectors.sandbox.quickbooks_customers import create_customer
from connectors.sandbox.quickbooks_runner import start_quickbooks_sandbox
from connectors.sandbox.quickbooks_seed import seed_quickbooks
from connectors.sandbox.quickbooks_state import QuickBooksState


@pytest.fixture(scope="module")
def qbo():
    sandbox = start_quickbooks_sandbox(seed=42, limits=False)
    yield sandbox
    sandbox.stop(save=False)


def client(sandbox) -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.url}/v3/company/{sandbox.realm_id}", timeout=10,
                        headers={"Authorization": f"Bearer {sandbox.access_token()}",
                                 "Accept": "application/json", "Content-Type": "application/json"})


@pytest.fixture
def api(qbo):
    with client(qbo) as http:
        yield http
    qbo.state.faults.clear()


def name(prefix: str = "Cust") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def post(api: httpx.Client, path: str, body, **params) -> httpx.Response:
    return api.post(path, params={"minorversion": 75, **params}, content=jsonio.dumpb(body))


def query(api: httpx.Client, text: str) -> httpx.Response:
    return api.get("/query", params={"query": text, "minorversion": 75})


def codes(qbo) -> dict[str, str]:
    return {c["Name"]: c["Id"] for c in qbo.state.books.all("TaxCode")}


def new_customer(api, **fields) -> dict:
    reply = post(api, "/customer", {"DisplayName": name(), **fields})
    assert reply.status_code == 200, reply.text
    return jsonio.loads(reply.content)["Customer"]


def line(amount: str, qty: str, price: str, code: str, discount: str | None = None) -> dict:
    detail = {"ItemRef": {"value": "1"}, "Qty": Decimal(qty), "UnitPrice": Decimal(price),
              "TaxCodeRef": {"value": code}}
    if discount:
        detail["DiscountRate"] = Decimal(discount)
    return {"DetailType": "SalesItemLineDetail", "Amount": Decimal(amount), "SalesItemLineDetail": detail}


def new_invoice(api, qbo, customer: dict, *lines: dict, **fields) -> dict:
    lines = lines or (line("1000.00", "1", "1000", codes(qbo)["Standard rated (15%)"]),)
    reply = post(api, "/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": list(lines), **fields})
    assert reply.status_code == 200, reply.text
    return jsonio.loads(reply.content)["Invoice"]


def fault_code(reply: httpx.Response) -> str:
    return reply.json()["Fault"]["Error"][0]["code"]


# ---- query language --------------------------------------------------------------------------
def test_query_filters_in_lists_orders_counts_and_pages(api, qbo):
    customer = new_customer(api)
    numbers = [f"Q-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    for number in numbers:
        new_invoice(api, qbo, customer, DocNumber=number)
    found = query(api, f"select * from Invoice where DocNumber in ('{numbers[0]}','{numbers[2]}') "
                       "STARTPOSITION 1 MAXRESULTS 1000").json()["QueryResponse"]
    assert sorted(i["DocNumber"] for i in found["Invoice"]) == sorted([numbers[0], numbers[2]])
    assert found["startPosition"] == 1 and found["maxResults"] == 2
    where = f"where CustomerRef = '{customer['Id']}'"
    assert query(api, f"select count(*) from Invoice {where}").json()["QueryResponse"] == {"totalCount": 3}
    newest = query(api, f"select * from Invoice {where} ORDERBY DocNumber DESC MAXRESULTS 1").json()
    assert newest["QueryResponse"]["Invoice"][0]["DocNumber"] == max(numbers)
    second = query(api, f"select * from Invoice {where} ORDERBY DocNumber STARTPOSITION 2 MAXRESULTS 1").json()
    assert second["QueryResponse"]["Invoice"][0]["DocNumber"] == sorted(numbers)[1]
    assert query(api, "select * from Invoice where DocNumber = 'nothing-like-it'").json()["QueryResponse"] == {}


def test_query_quotes_are_escaped_not_executed(api):
    odd = new_customer(api, DisplayName=f"O'Brien {uuid.uuid4().hex[:6]} & Sons")
    escaped = odd["DisplayName"].replace("'", "\\'")
    rows = query(api, f"select * from Customer where DisplayName = '{escaped}'").json()["QueryResponse"]
    assert [c["Id"] for c in rows["Customer"]] == [odd["Id"]]
    injected = query(api, "select * from Customer where DisplayName = 'x' or 1=1")
    assert injected.status_code == 400 and fault_code(injected) == "4000"


@pytest.mark.parametrize("text, code", [
    ("select * from Customer where AcctNum = 'crm-1'", "4001"),       # not filterable in QBO
    ("select * from Invoice ORDERBY PrivateNote", "4001"),
    ("select * from Widget", "4001"),
    ("select Id from Invoice", "4000"),
    ("select * from Invoice where DocNumber = 'A' or DocNumber = 'B'", "4000"),
    ("select * from Invoice where DocNumber ~ 'A'", "4000"),
    ("select * from Invoice MAXRESULTS many", "4000"),
])
def test_query_refuses_what_qbo_refuses(api, text, code):
    reply = query(api, text)
    assert reply.status_code == 400
    assert reply.json()["Fault"]["type"] == "ValidationFault" and fault_code(reply) == code


def test_maxresults_caps_at_1000_and_inactive_name_lists_need_active_named(qbo):
    state = QuickBooksState()
    with state.lock:
        for n in range(1005):
            create_customer(state.books, {"DisplayName": f"Bulk {n}"})
    sandbox = start_quickbooks_sandbox(limits=False)
    sandbox.state.books = state.books
    try:
        with client(sandbox) as http:
            rows = query(http, "select * from Customer MAXRESULTS 5000").json()["QueryResponse"]
            assert len(rows["Customer"]) == 1000
            default = query(http, "select * from Customer").json()["QueryResponse"]
            assert len(default["Customer"]) == 100
            active_only = query(http, "select * from TaxCode").json()["QueryResponse"]["TaxCode"]
            everything = query(http, "select * from TaxCode where Active in (true, false)").json()
        assert "Standard rated (14%)" not in {c["Name"] for c in active_only}
        assert "Standard rated (14%)" in {c["Name"] for c in everything["QueryResponse"]["TaxCode"]}
    finally:
        sandbox.stop(save=False)


# ---- customers ---------------------------------------------------------------------------------
def test_duplicate_display_name_and_stale_sync_token(api):
    customer = new_customer(api, PrimaryEmailAddr={"Address": "a@b.co.za"})
    again = post(api, "/customer", {"DisplayName": customer["DisplayName"].upper()})
    assert again.status_code == 400 and fault_code(again) == "6240"
    assert again.json()["Fault"]["Error"][0]["Message"] == "Duplicate Name Exists Error"
    first = post(api, "/customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"],
                                    "sparse": True, "Notes": "first"})
    assert first.status_code == 200 and first.json()["Customer"]["SyncToken"] == "1"
    assert first.json()["Customer"]["PrimaryEmailAddr"] == {"Address": "a@b.co.za"}  # sparse keeps it
    late = post(api, "/customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "late"})
    assert late.status_code == 400 and fault_code(late) == "5010"
    assert late.json()["Fault"]["Error"][0]["Message"] == "Stale Object Error"
    current = api.get(f"/customer/{customer['Id']}").json()["Customer"]
    assert current["Notes"] == "first" and current["SyncToken"] == "1"
    full = post(api, "/customer", {"Id": customer["Id"], "SyncToken": "1", "DisplayName": current["DisplayName"]})
    assert "PrimaryEmailAddr" not in full.json()["Customer"]  # a full update clears what it omits
    unknown = post(api, "/customer", {"DisplayName": name(), "Nickname": "x"})
    assert unknown.status_code == 400 and fault_code(unknown) == "2010"


def test_vat_number_is_masked_in_answers(api):
    customer = new_customer(api, PrimaryTaxIdentifier="4123456789")
    assert customer["PrimaryTaxIdentifier"] == "XXXXX56789"


# ---- invoices ----------------------------------------------------------------------------------
def test_invoice_totals_vat_per_line_and_validation(api, qbo):
    customer = new_customer(api)
    code = codes(qbo)
    invoice = new_invoice(api, qbo, customer,
                          line("1666.67", "1.5", "1234.5678", code["Standard rated (15%)"], discount="10"),
                          line("99.99", "3", "33.33", code["Zero-rated"]), DocNumber="INV-TOTALS")
    assert invoice["TxnTaxDetail"]["TotalTax"] == Decimal("250.00")
    assert invoice["TotalAmt"] == Decimal("2016.66") == invoice["Balance"]
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert invoice["CurrencyRef"]["value"] == "ZAR"
    bad = {"CustomerRef": {"value": customer["Id"]}}
    wrong_amount = post(api, "/invoice", {**bad, "Line": [line("1666.58", "1.5", "1234.5678",
                                                                code["Standard rated (15%)"], "10")]})
    assert fault_code(wrong_amount) == "6070"
    old_rate = post(api, "/invoice", {**bad, "Line": [line("10.00", "1", "10", code["Standard rated (14%)"])]})
    assert fault_code(old_rate) == "6000" and "inactive" in old_rate.json()["Fault"]["Error"][0]["Detail"]
    purchases = post(api, "/invoice", {**bad, "Line": [line("10.00", "1", "10", code["Standard rated purchases (15%)"])]})
    assert fault_code(purchases) == "6000"
    dollars = post(api, "/invoice", {**bad, "CurrencyRef": {"value": "USD"},
                                     "Line": [line("10.00", "1", "10", code["Zero-rated"])]})
    assert fault_code(dollars) == "6000" and "currency" in dollars.json()["Fault"]["Error"][0]["Detail"]
    too_long = post(api, "/invoice", {**bad, "DocNumber": "X" * 22,
                                      "Line": [line("10.00", "1", "10", code["Zero-rated"])]})
    assert fault_code(too_long) == "2050"
    no_vat = post(api, "/invoice", {**bad, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10,
                                                     "SalesItemLineDetail": {"ItemRef": {"value": "1"},
                                                                             "Qty": 1, "UnitPrice": 10}}]})
    assert fault_code(no_vat) == "6000"


def test_void_zeroes_the_invoice_and_gives_payments_back(api, qbo):
    customer = new_customer(api)
    invoice = new_invoice(api, qbo, customer)
    paid = post(api, "/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": Decimal("100.00"),
                                  "Line": [{"Amount": Decimal("100.00"),
                                            "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    payment = paid.json()["Payment"]
    current = api.get(f"/invoice/{invoice['Id']}").json()["Invoice"]
    stale = post(api, "/invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    assert fault_code(stale) == "5010"
    voided = post(api, "/invoice", {"Id": invoice["Id"], "SyncToken": current["SyncToken"]},
                  operation="void").json()["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert all(line["Amount"] == 0 for line in voided["Line"]) and voided["LinkedTxn"] == []
    after = api.get(f"/payment/{payment['Id']}").json()["Payment"]
    assert after["UnappliedAmt"] == 100 and after["Line"] == []


# ---- money -------------------------------------------------------------------------------------
def test_payments_and_credit_memos_reduce_the_balance(api, qbo):
    customer = new_customer(api)
    invoice = new_invoice(api, qbo, customer)  # 1000 + 150 VAT
    memo = post(api, "/creditmemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [
        line("100.00", "1", "100", codes(qbo)["Standard rated (15%)"])]}).json()["CreditMemo"]
    assert memo["TotalAmt"] == 115 and memo["Balance"] == 115
    paid = post(api, "/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": Decimal("500.00"),
                                  "TxnDate": "2026-11-05", "Line": [
                                      {"Amount": Decimal("500.00"),
                                       "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    assert paid.status_code == 200, paid.text
    applied = post(api, "/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 0, "Line": [
        {"Amount": Decimal("115.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
        {"Amount": Decimal("115.00"), "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]})
    assert applied.status_code == 200, applied.text
    after = api.get(f"/invoice/{invoice['Id']}").json()["Invoice"]
    assert after["Balance"] == 535 and after["TotalAmt"] == 1150
    assert [link["TxnType"] for link in after["LinkedTxn"]] == ["Payment", "Payment"]
    assert api.get(f"/creditmemo/{memo['Id']}").json()["CreditMemo"]["Balance"] == 0
    assert api.get(f"/customer/{customer['Id']}").json()["Customer"]["Balance"] == 535
    too_much = post(api, "/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 600, "Line": [
        {"Amount": 600, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    assert fault_code(too_much) == "6000"
    deleted = post(api, "/payment", {"Id": paid.json()["Payment"]["Id"], "SyncToken": "0"}, operation="delete")
    assert deleted.json()["Payment"]["status"] == "Deleted"
    assert api.get(f"/invoice/{invoice['Id']}").json()["Invoice"]["Balance"] == 1035


# ---- batch and requestid -----------------------------------------------------------------------
def test_batch_answers_per_item_and_items_cannot_see_each_other(api, qbo):
    taken = new_customer(api)
    fresh = name("Batch")
    items = [{"bId": "1", "operation": "create", "Customer": {"DisplayName": fresh}},
             {"bId": "2", "operation": "create", "Customer": {"DisplayName": taken["DisplayName"]}},
             {"bId": "3", "operation": "create", "Invoice": {
                 "CustomerRef": {"value": str(qbo.state.books.next_id)},  # the id item 1 gets
                 "Line": [line("10.00", "1", "10", codes(qbo)["Zero-rated"])]}},
             {"bId": "4", "Query": f"select * from Customer where DisplayName = '{fresh}'"}]
    reply = post(api, "/batch", {"BatchItemRequest": items})
    assert reply.status_code == 200
    answers = {a["bId"]: a for a in reply.json()["BatchItemResponse"]}
    assert answers["1"]["Customer"]["DisplayName"] == fresh
    assert answers["2"]["Fault"]["Error"][0]["code"] == "6240"
    assert answers["3"]["Fault"]["Error"][0]["code"] == "2500"  # created in this batch: not visible
    assert answers["4"]["QueryResponse"]["Customer"][0]["Id"] == answers["1"]["Customer"]["Id"]


def test_batch_of_31_is_refused_whole(api):
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": name()}} for n in range(31)]
    reply = post(api, "/batch", {"BatchItemRequest": items})
    assert reply.status_code == 400 and "at most 30" in reply.json()["Fault"]["Error"][0]["Detail"]
    first = items[0]["Customer"]["DisplayName"]
    count = query(api, f"select count(*) from Customer where DisplayName = '{first}'")
    assert count.json()["QueryResponse"]["totalCount"] == 0


def test_requestid_replays_the_original_answer_and_writes_nothing(api, qbo):
    request_id = uuid.uuid4().hex
    first = post(api, "/customer", {"DisplayName": name()}, requestid=request_id)
    again = post(api, "/customer", {"DisplayName": name()}, requestid=request_id)
    assert again.status_code == 200 and again.content == first.content
    created = first.json()["Customer"]["DisplayName"]
    assert query(api, f"select count(*) from Customer where DisplayName = '{created}'").json()[
        "QueryResponse"]["totalCount"] == 1
    batch_id = str(uuid.uuid4())  # 36 characters: the batch maximum
    body = {"BatchItemRequest": [{"bId": "a", "operation": "create", "Customer": {"DisplayName": name()}}]}
    one = post(api, "/batch", body, requestid=batch_id)
    two = post(api, "/batch", body, requestid=batch_id)
    assert one.content == two.content
    assert fault_code(post(api, "/batch", body, requestid=batch_id + "x")) == "2010"
    assert fault_code(post(api, "/customer", {"DisplayName": name()}, requestid="r" * 51)) == "2010"


def test_commit_then_fail_keeps_the_write_and_the_replay_reports_it(api, qbo):
    qbo.state.faults.add_rule("commit_then_fail", f"/v3/company/{qbo.realm_id}/batch", "POST")
    body = {"BatchItemRequest": [{"bId": "a", "operation": "create", "Customer": {"DisplayName": name()}}]}
    request_id = str(uuid.uuid4())
    lost = post(api, "/batch", body, requestid=request_id)
    assert lost.status_code == 500 and lost.json()["Fault"]["type"] == "SystemFault"
    replay = post(api, "/batch", body, requestid=request_id)
    assert replay.status_code == 200
    created = replay.json()["BatchItemResponse"][0]["Customer"]
    assert api.get(f"/customer/{created['Id']}").status_code == 200


# ---- CDC ---------------------------------------------------------------------------------------
def test_cdc_reports_changes_deletes_and_refuses_old_windows(api, qbo):
    since = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(timespec="seconds")
    customer = new_customer(api)
    kept = new_invoice(api, qbo, customer)
    gone = new_invoice(api, qbo, customer)
    post(api, "/invoice", {"Id": gone["Id"], "SyncToken": gone["SyncToken"]}, operation="delete")
    reply = api.get("/cdc", params={"entities": "Invoice,Customer", "changedSince": since})
    assert reply.status_code == 200
    responses = reply.json()["CDCResponse"][0]["QueryResponse"]
    invoices = {i["Id"]: i for i in responses[0]["Invoice"]}
    assert invoices[kept["Id"]]["TotalAmt"] == 1150
    assert invoices[gone["Id"]] == {"domain": "QBO", "status": "Deleted", "Id": gone["Id"],
                                    "MetaData": invoices[gone["Id"]]["MetaData"]}
    assert customer["Id"] in {c["Id"] for c in responses[1]["Customer"]}
    old = (datetime.now(timezone.utc) - timedelta(days=31)).isoformat()
    refused = api.get("/cdc", params={"entities": "Invoice", "changedSince": old})
    assert refused.status_code == 400 and "30 days" in refused.json()["Fault"]["Error"][0]["Detail"]
    assert api.get("/cdc", params={"entities": "TaxCode", "changedSince": since}).status_code == 400


def test_cdc_cuts_at_1000_objects_per_entity():
    sandbox = start_quickbooks_sandbox(limits=False)
    try:
        with sandbox.state.lock:
            for n in range(1003):
                create_customer(sandbox.state.books, {"DisplayName": f"Bulk {n}"})
        since = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
        with client(sandbox) as http:
            body = http.get("/cdc", params={"entities": "Customer", "changedSince": since}).json()
        answer = body["CDCResponse"][0]["QueryResponse"][0]
        assert len(answer["Customer"]) == 1000 and answer["maxResults"] == 1000
        assert answer["Customer"][0]["DisplayName"] == "Bulk 0"  # oldest changes first
    finally:
        sandbox.stop(save=False)


# ---- limits, auth, faults ----------------------------------------------------------------------
def test_throttling_answers_throttle_exceeded_without_invented_headers():
    sandbox = start_quickbooks_sandbox(limits=True, limit_overrides={"per_minute": 3, "batch_per_minute": 1})
    try:
        with client(sandbox) as http:
            replies = [http.get("/preferences") for _ in range(4)]
            assert [r.status_code for r in replies] == [200, 200, 200, 429]
            fault = replies[-1].json()["Fault"]
            assert fault["Error"][0]["code"] == "3001" and "ThrottleExceeded" in fault["Error"][0]["Message"]
            assert not [h for h in replies[-1].headers if h.lower().startswith(("x-ratelimit", "retry-after"))]
            httpx.post(f"{sandbox.url}/_sandbox/limits", json={"enabled": True})  # new windows
            body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
            assert post(http, "/batch", body).status_code == 200
            assert post(http, "/batch", body).status_code == 429  # the batch budget, not the minute's
            assert http.get("/preferences").status_code == 200
    finally:
        sandbox.stop(save=False)


def test_concurrent_calls_past_the_cap_are_throttled():
    sandbox = start_quickbooks_sandbox(limits=True, latency_s=0.3, limit_overrides={"concurrent": 2})
    statuses: list[int] = []
    try:
        start = threading.Barrier(4)

        def call(http: httpx.Client) -> None:
            start.wait()
            statuses.append(http.get("/preferences").status_code)

        with client(sandbox) as http:
            threads = [threading.Thread(target=call, args=(http,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(statuses) == [200, 200, 429, 429]
    finally:
        sandbox.stop(save=False)


def test_oauth_rotates_refresh_tokens_and_rejects_expired_access(qbo):
    old = qbo.refresh_token
    form = {"grant_type": "refresh_token", "refresh_token": old}
    auth = (qbo.client_id, qbo.client_secret)
    fresh = httpx.post(qbo.token_url, data=form, auth=auth)
    assert fresh.status_code == 200 and fresh.json()["refresh_token"] != old
    assert fresh.json()["expires_in"] == 3600 and fresh.json()["token_type"] == "bearer"
    assert httpx.post(qbo.token_url, data=form, auth=auth).json() == {"error": "invalid_grant"}
    assert httpx.post(qbo.token_url, data={**form, "refresh_token": qbo.refresh_token},
                      auth=(qbo.client_id, "wrong")).status_code == 401
    with client(qbo) as http:
        http.headers["Authorization"] = f"Bearer {fresh.json()['access_token']}"
        assert http.get("/preferences").status_code == 200
        httpx.post(f"{qbo.url}/_sandbox/quickbooks/expire-tokens")
        expired = http.get("/preferences")
        assert expired.status_code == 401
        assert expired.json()["Fault"] == {"Error": [{
            "Message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "Detail": "Token expired: the access token was not accepted", "code": "3200", "element": ""}],
            "type": "AuthenticationFault"}
    with httpx.Client(base_url=f"{qbo.url}/v3/company/123", headers={
            "Authorization": f"Bearer {qbo.access_token()}"}) as other:
        assert other.get("/preferences").status_code == 403


def test_injected_faults_and_minorversion_bookkeeping(api, qbo):
    qbo.state.faults.add_rule("status", f"/v3/company/{qbo.realm_id}/query", "GET", status=503)
    failed = query(api, "select * from Term")
    assert failed.status_code == 503 and failed.json()["Fault"]["type"] == "SystemFault"
    assert query(api, "select * from Term").status_code == 200
    assert api.get("/query", params={"query": "select * from Term", "minorversion": "x"}).status_code == 400
    assert qbo.state.minor_versions.get("75", 0) >= 1


# ---- state and seed ----------------------------------------------------------------------------
def test_state_round_trips_with_exact_decimals(api, qbo):
    customer = new_customer(api)
    new_invoice(api, qbo, customer, line("0.10", "1", "0.1", codes(qbo)["Standard rated (15%)"]))
    saved = jsonio.loads(jsonio.dumps(qbo.state.to_dict()))
    copy = QuickBooksState()
    copy.load_dict(saved)
    original = qbo.state.books
    assert copy.books.records["Invoice"] == {k: {**v, "_visible_ms": 0} for k, v in original.records["Invoice"].items()}
    assert copy.books.names == original.names and copy.books.next_id == original.next_id
    assert not copy.is_empty() and QuickBooksState().is_empty()


def test_seed_is_the_south_african_company_with_the_xero_customers():
    from connectors.sandbox.hubspot_state import HubSpotState
    from connectors.sandbox.seed import seed_books
    from connectors.sandbox.xero_state import XeroState

    hubspot, xero = HubSpotState(), XeroState()
    xero_report = seed_books(hubspot, xero, deals=60, seed=7)
    state = QuickBooksState()
    report = seed_quickbooks(state, hubspot=hubspot)
    assert report.customers == xero_report.xero_contacts[:5]
    assert report.items["Services"] == "1"
    books = state.books
    prefs = books.records["Preferences"]["1"]["CurrencyPrefs"]
    assert prefs == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "ZAR"}}
    assert books.currency_enabled("USD")
    by_name = {c["Name"]: c for c in books.all("TaxCode")}
    assert by_name["Standard rated (14%)"]["Active"] is False
    rate_of = {r["Id"]: r["RateValue"] for r in books.all("TaxRate")}
    sales = {n: sum(rate_of[d["TaxRateRef"]["value"]] for d in c["SalesTaxRateList"]["TaxRateDetail"])
             for n, c in by_name.items()}
    assert sales == {"Standard rated (15%)": 15, "Zero-rated": 0, "Exempt": 0, "Zero-rated exports": 0,
                     "Standard rated (14%)": 14, "Standard rated purchases (15%)": 0}
    assert not any("AcctNum" in c for c in books.all("Customer"))  # like Xero's: no CRM id yet
