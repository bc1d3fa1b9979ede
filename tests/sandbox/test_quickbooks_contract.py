"""Contract: every JSON body the QuickBooks emulator answers, and every payload the connector sends,
is checked against Intuit's official XSDs (../shared/vendor-specs/quickbooks) — an unknown field,
a number sent as text or a value outside an enumeration fails the test."""

from __future__ import annotations

import os
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # qbo_xsd (tests have no packages)

from qbo_xsd import Schema  # noqa: E402

from connectors.oauth import InMemoryTokenStore, TokenSet  # noqa: E402
from connectors.quickbooks import QuickBooksConnector  # noqa: E402
from connectors.sandbox import jsonio  # noqa: E402
from connectors.sandbox.quickbooks_runner import start_quickbooks_sandbox  # noqa: E402
from ledgerlink.model import Invoice, InvoiceLine, Party, TaxTreatment  # noqa: E402
from ledgerlink.money import Money  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("LEDGERLINK_VENDOR_SPECS", REPO.parent / "shared" / "vendor-specs")) / "quickbooks"


@pytest.fixture(scope="module")
def schema() -> Schema:
    if not (SPECS / "Finance.xsd").exists():
        pytest.skip(f"QuickBooks XSDs not found at {SPECS} (set LEDGERLINK_VENDOR_SPECS); "
                    "contract tests need ../shared/vendor-specs/quickbooks")
    return Schema(SPECS)


@pytest.fixture(scope="module")
def qbo():
    sandbox = start_quickbooks_sandbox(seed=42, limits=False)
    yield sandbox
    sandbox.stop(save=False)


class Recorder(httpx.BaseTransport):
    """A real HTTP transport that keeps every request and answer it carried."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[tuple[httpx.Request, int, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        content = response.read()
        self.exchanges.append((request, response.status_code, content))
        return httpx.Response(response.status_code, headers=response.headers, content=content,
                              request=request)

    def close(self) -> None:
        self.inner.close()


def assert_conforms(schema: Schema, body: bytes | dict, type_name: str, where: str) -> None:
    value = jsonio.loads(body) if isinstance(body, (bytes, str)) else body
    problems = schema.validate(value, type_name)
    assert not problems, f"{where} does not match {type_name}:\n" + "\n".join(problems[:20])


# ---- the reader itself must be able to fail ----------------------------------------------------
def test_the_xsd_reader_catches_what_qbo_would_refuse(schema):
    good = {"Invoice": {"DocNumber": "A-1", "CustomerRef": {"value": "1", "name": "X"},
                        "GlobalTaxCalculation": "TaxExcluded", "TotalAmt": Decimal("1.00"),
                        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal("1.00"),
                                  "SalesItemLineDetail": {"Qty": 1, "TaxCodeRef": {"value": "3"}}}],
                        "MetaData": {"LastUpdatedTime": "2026-01-01T00:00:00-08:00"}}, "time": "x"}
    assert schema.validate(good, "IntuitResponse") == []
    bad = {"Invoice": {"Reference": "A-1", "TotalAmt": "1.00", "GlobalTaxCalculation": "Exclusive",
                       "Line": [{"DetailType": "SalesItemLineDetail",
                                 "SalesItemLineDetail": {"TaxType": "OUTPUT3"}}]}}
    problems = "\n".join(schema.validate(bad, "IntuitResponse"))
    assert "$.Invoice.Reference: not a field of Invoice" in problems
    assert "$.Invoice.TotalAmt: number expected" in problems
    assert "'Exclusive' is not one of GlobalTaxCalculationEnum" in problems
    assert "$.Invoice.Line[0].SalesItemLineDetail.TaxType: not a field of SalesItemLineDetail" in problems
    # inherited fields come through xs:extension: Customer ← NameBase ← IntuitEntity
    assert {"Id", "SyncToken", "DisplayName", "AcctNum", "PrimaryTaxIdentifier"} <= set(schema.fields("Customer"))


# ---- the emulator ------------------------------------------------------------------------------
def test_every_body_the_emulator_answers_matches_the_xsd(schema, qbo):
    base = f"{qbo.url}/v3/company/{qbo.realm_id}"
    recorder = Recorder()
    http = httpx.Client(base_url=base, transport=recorder, headers={
        "Authorization": f"Bearer {qbo.access_token()}", "Content-Type": "application/json"})
    codes = {c["Name"]: c["Id"] for c in qbo.state.books.all("TaxCode")}

    def post(path: str, body: dict, **params: str) -> dict:
        return jsonio.loads(http.post(path, params=params, content=jsonio.dumpb(body)).content)

    since = (datetime.now(timezone.utc) - timedelta(seconds=2)).isoformat(timespec="seconds")
    customer = post("/customer", {"DisplayName": f"Contract {uuid.uuid4().hex[:6]}",
                                  "PrimaryEmailAddr": {"Address": "a@b.co.za"}, "AcctNum": "crm-1",
                                  "PrimaryTaxIdentifier": "4123456789",
                                  "BillAddr": {"Line1": "1 Long St", "City": "Cape Town"}})["Customer"]
    post("/customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "n"})
    line = {"DetailType": "SalesItemLineDetail", "Amount": Decimal("90.00"), "Description": "d",
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": Decimal("100"),
                                    "DiscountRate": 10, "TaxCodeRef": {"value": codes["Standard rated (15%)"]}}}
    invoice = post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "DocNumber": "C-1",
                                "Line": [line]})["Invoice"]
    other = post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})["Invoice"]
    memo = post("/creditmemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})["CreditMemo"]
    post("/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": Decimal("50"), "Line": [
        {"Amount": Decimal("50"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    post("/payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 0, "Line": [
        {"Amount": Decimal("10"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
        {"Amount": Decimal("10"), "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]})
    current = http.get(f"/invoice/{other['Id']}").json()["Invoice"]
    post("/invoice", {"Id": other["Id"], "SyncToken": current["SyncToken"]}, operation="void")
    post("/invoice", {"Id": other["Id"], "SyncToken": str(int(current["SyncToken"]) + 1)}, operation="delete")
    post("/batch", {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": customer["DisplayName"]}},
        {"bId": "2", "operation": "create", "Invoice": {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}},
        {"bId": "3", "Query": "select * from TaxRate where Active in (true, false)"}]})
    for entity in ("Customer", "Invoice", "Payment", "CreditMemo", "TaxCode", "TaxRate", "Item", "Term",
                   "Account", "CompanyInfo", "Preferences", "CompanyCurrency"):
        http.get("/query", params={"query": f"select * from {entity} MAXRESULTS 1000"})
    http.get("/query", params={"query": "select count(*) from Invoice"})
    http.get("/preferences")
    http.get("/companyinfo/1")
    http.get("/cdc", params={"entities": "Invoice,Customer,Payment,CreditMemo", "changedSince": since})
    http.get("/query", params={"query": "select * from Customer where AcctNum = 'x'"})  # 400
    http.get("/invoice/1/lines/2")  # 404: no such resource
    http.get("/preferences", headers={"Authorization": "Bearer nope"})  # 401
    qbo.state.faults.add_rule("status", f"/v3/company/{qbo.realm_id}/preferences", status=500)
    qbo.state.faults.add_rule("rate_limit", f"/v3/company/{qbo.realm_id}/preferences")
    http.get("/preferences")
    http.get("/preferences")
    http.close()
    statuses = {status for _, status, _ in recorder.exchanges}
    assert {200, 400, 401, 404, 429, 500} <= statuses
    kinds = set()
    for request, status, content in recorder.exchanges:
        body = jsonio.loads(content)
        kinds |= set(body)
        assert_conforms(schema, body, "IntuitResponse", f"{request.method} {request.url.path} → {status}")
    assert {"Customer", "Invoice", "Payment", "CreditMemo", "QueryResponse", "BatchItemResponse",
            "CDCResponse", "Fault", "Preferences", "CompanyInfo"} <= kinds


# ---- the connector -----------------------------------------------------------------------------
def test_every_payload_the_connector_sends_matches_the_xsd(schema, qbo):
    recorder = Recorder()
    store = InMemoryTokenStore()
    store.save("contract", "quickbooks", TokenSet.of(qbo.access_token(), qbo.refresh_token,
                                                     datetime.now(timezone.utc) + timedelta(minutes=30)))
    connector = QuickBooksConnector(qbo.api_url, qbo.realm_id, store, qbo.client_id, qbo.client_secret,
                                    qbo.token_url, "contract", limits=None, transport=recorder)
    try:
        crm_id = f"crm-{uuid.uuid4().hex[:6]}"
        party = Party(name=f"Contract {crm_id}", crm_id=crm_id, email="x@y.co.za", phone="+27 21 555 0100",
                      vat_number="4987654321", currency="ZAR", payment_terms_days=30)
        [made] = connector.create_contacts([party], f"c-{crm_id}")
        assert made.ok, made.errors
        party = Party(name=party.name, crm_id=crm_id, accounting_id=made.target_id, email="new@y.co.za")
        assert connector.update_contacts([party], f"u-{crm_id}")[0].ok
        standard = next(r for r in connector.tax_rates() if r.active and r.rate == Decimal("0.15"))
        line = InvoiceLine("Survey", Decimal("2"), Money.of("99.995", "ZAR"), Decimal("12.5"),
                           TaxTreatment.STANDARD, Decimal("0.15"), standard.code)
        invoice = Invoice("d1", f"DEAL-{crm_id}", party, "ZAR", date(2026, 11, 2), date(2026, 12, 2), (line,))
        assert connector.create_invoices([invoice], f"i-{crm_id}")[0].ok
        connector.find_contacts_by_crm_id([crm_id])
        list(connector.invoices_modified_since(datetime.now(timezone.utc) - timedelta(hours=1)))
        connector.open_balances([made.target_id])
    finally:
        connector.close()
    sent = [(r, c) for r, _, c in recorder.exchanges if r.url.path.startswith("/v3/")]
    batches = [r for r, _ in sent if r.method == "POST"]
    assert len(batches) == 3 and all(r.url.path.endswith("/batch") for r in batches)
    operations = set()
    for request in batches:
        body = jsonio.loads(request.content)
        assert_conforms(schema, body, "IntuitBatchRequest", f"POST {request.url.path}")
        operations |= {(item["operation"], next(k for k in item if k[0].isupper()))
                       for item in body["BatchItemRequest"]}
    assert operations == {("create", "Customer"), ("update", "Customer"), ("create", "Invoice")}
    for request, content in sent:
        assert request.url.params["minorversion"] == "75"
        assert_conforms(schema, content, "IntuitResponse", f"answer to {request.method} {request.url.path}")
