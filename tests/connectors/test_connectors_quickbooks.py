"""QuickBooks connector against the QuickBooks emulator, over real loopback HTTP: every protocol
method, duplicates prevented, lost answers settled, stale versions re-read, deltas, pacing, errors."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from connectors.contract import AccountingConnector
from connectors.errors import RateLimited, Unauthorized, UncertainWrite, ValidationRejected
from connectors.http import RetryPolicy
from connectors.oauth import InMemoryTokenStore, TokenSet
from connectors.quickbooks import QuickBooksConnector
from connectors.ratelimit import quickbooks_limits
from connectors.sandbox import jsonio
from connectors.sandbox.quickbooks_runner import start_quickbooks_sandbox
from connectors.sandbox.quickbooks_sales import create_sales, update_sales
from ledgerlink.model import Invoice, InvoiceLine, InvoiceStatus, Party, TaxTreatment
from ledgerlink.money import Money

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def qbo():
    sandbox = start_quickbooks_sandbox(seed=42, limits=False)
    yield sandbox
    sandbox.stop(save=False)


@pytest.fixture(autouse=True)
def _clean(qbo):
    yield
    qbo.state.faults.clear()
    qbo.state.books.query_lag_s = 0.0


def connect(sandbox, tenant: str | None = None, **options) -> tuple[QuickBooksConnector, InMemoryTokenStore]:
    tenant = tenant or f"t-{uuid.uuid4().hex[:6]}"
    store = InMemoryTokenStore()
    store.save(tenant, "quickbooks", TokenSet.of(sandbox.access_token(), sandbox.refresh_token,
                                                 NOW + timedelta(minutes=30)))
    options.setdefault("limits", None)
    return QuickBooksConnector(sandbox.api_url, sandbox.realm_id, store, sandbox.client_id,
                               sandbox.client_secret, sandbox.token_url, tenant, **options), store


@pytest.fixture
def qb(qbo):
    connector, _ = connect(qbo)
    yield connector
    connector.close()


def raw(sandbox) -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.url}/v3/company/{sandbox.realm_id}", headers={
        "Authorization": f"Bearer {sandbox.access_token()}", "Content-Type": "application/json"})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code(qb: QuickBooksConnector, name: str) -> str:
    return next(r.code for r in qb.tax_rates() if r.name == name)


def customer(qb: QuickBooksConnector, currency: str = "ZAR") -> Party:
    crm_id = unique("crm")
    party = Party(name=f"Karoo Traders {crm_id}", crm_id=crm_id, currency=currency)
    [made] = qb.create_contacts([party], unique("contacts"))
    assert made.ok, made.errors
    return Party(name=party.name, crm_id=crm_id, accounting_id=made.target_id, currency=currency)


def invoice(party: Party, tax_code: str, reference: str | None = None, price: str = "1000",
            currency: str = "ZAR", discount: str = "0", quantity: str = "1") -> Invoice:
    line = InvoiceLine("Irrigation survey", Decimal(quantity), Money.of(price, currency), Decimal(discount),
                       TaxTreatment.STANDARD, Decimal("0.15"), tax_code)
    return Invoice(deal_id="d", reference=reference or unique("DEAL"), customer=party, currency=currency,
                   issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2), lines=(line,))


def pay(sandbox, party: Party, lines: list[tuple[str, str, str]], total: str, on: str) -> dict:
    body = {"CustomerRef": {"value": party.accounting_id}, "TotalAmt": Decimal(total), "TxnDate": on,
            "Line": [{"Amount": Decimal(a), "LinkedTxn": [{"TxnId": i, "TxnType": t}]} for t, i, a in lines]}
    with raw(sandbox) as http:
        reply = http.post("/payment", content=jsonio.dumpb(body))
    assert reply.status_code == 200, reply.text
    return reply.json()["Payment"]


def test_the_connector_is_an_accounting_connector(qb):
    assert isinstance(qb, AccountingConnector) and qb.max_batch == 30 and qb.vendor == "quickbooks"


# ---- reference data and contacts ---------------------------------------------------------------
def test_tax_rates_are_read_not_hard_coded_and_include_the_inactive_14_percent(qb):
    rates = {r.name: r for r in qb.tax_rates()}
    assert rates["Standard rated (15%)"].rate == Decimal("0.15") and rates["Standard rated (15%)"].active
    assert rates["Standard rated (14%)"].rate == Decimal("0.14") and not rates["Standard rated (14%)"].active
    assert {rates[n].rate for n in ("Zero-rated", "Exempt", "Zero-rated exports")} == {Decimal(0)}
    assert "Standard rated purchases (15%)" not in rates  # purchases only: not a sales code
    assert qb.stats.snapshot()["per_endpoint"] == {"GET /query": 2}


def test_contacts_created_per_item_found_by_crm_id_and_listed(qb, qbo):
    good, bad = unique("crm"), unique("crm")
    results = qb.create_contacts([
        Party(name=f"Acme {good}", crm_id=good, email="accounts@acme.co.za", vat_number="4123456789",
              phone="+27 21 555 0101", currency="ZAR", payment_terms_days=30),
        Party(name=f"Broken {bad}", crm_id=bad, email="not-an-email")], unique("contacts"))
    assert [r.key for r in results] == [good, bad]
    assert results[0].ok and not results[1].ok
    assert "Invalid Email Address format" in results[1].errors[0] and "(code 6010)" in results[1].errors[0]
    calls = qb.stats.snapshot()["per_endpoint"]
    found = qb.find_contacts_by_crm_id([good, bad])
    assert list(found) == [good] and found[good].id == results[0].target_id
    assert found[good].email == "accounts@acme.co.za" and found[good].tax_number is None  # masked by QBO
    assert found[good].hidden == {"tax_number"}  # unknown, not cleared: no edit conflict over it
    after = qb.stats.snapshot()["per_endpoint"]
    assert set(after) == set(calls) and after["GET /query"] > calls.get("GET /query", 0)  # a directory read
    everyone = [c for page in qb.contacts_modified_since(None) for c in page]
    stamps = [c.updated_at for c in everyone]
    assert stamps == sorted(stamps) and results[0].target_id in {c.id for c in everyone}
    assert len(everyone) == len(qbo.state.books.records["Customer"])


def test_duplicate_name_is_settled_by_lookup_and_never_created_twice(qb):
    mine = customer(qb)
    again = qb.create_contacts([Party(name=mine.name, crm_id=mine.crm_id)], unique("contacts"))
    assert again[0].ok and again[0].target_id == mine.accounting_id  # ours, from a lost answer
    theirs = qb.create_contacts([Party(name=mine.name, crm_id=unique("crm"))], unique("contacts"))
    assert not theirs[0].ok and "Duplicate Name Exists Error" in theirs[0].errors[0]


def test_update_contacts_rereads_a_stale_sync_token_instead_of_overwriting(qbo):
    class EditFirst(httpx.BaseTransport):
        """A bookkeeper saves the customer just before our first batch reaches QBO."""

        def __init__(self) -> None:
            self.inner, self.fired = httpx.HTTPTransport(), False

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/batch") and not self.fired:
                self.fired = True
                with raw(qbo) as http:
                    current = http.get(f"/customer/{party.accounting_id}").json()["Customer"]
                    http.post("/customer", content=jsonio.dumpb({
                        "Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True,
                        "Notes": "called about the invoice"}))
            return self.inner.handle_request(request)

    setup, _ = connect(qbo)
    party = customer(setup)
    setup.close()
    racing = EditFirst()
    qb, _ = connect(qbo, transport=racing)
    try:
        changed = Party(name=party.name, crm_id=party.crm_id, accounting_id=party.accounting_id,
                        email="new@karoo.co.za")
        [result] = qb.update_contacts([changed], unique("update"))
        assert result.ok and racing.fired
        assert qb.stats.snapshot()["per_endpoint"]["POST /batch"] == 2
        final = qbo.state.books.records["Customer"][party.accounting_id]
        assert final["Notes"] == "called about the invoice"  # the other edit survived
        assert final["PrimaryEmailAddr"] == {"Address": "new@karoo.co.za"}
        moved = Party(name=party.name, crm_id=party.crm_id, accounting_id=party.accounting_id, currency="USD")
        [refused] = qb.update_contacts([moved], unique("update"))
        assert not refused.ok and "never changes a customer's currency" in refused.errors[0]
    finally:
        qb.close()


# ---- invoices ----------------------------------------------------------------------------------
def test_docnumber_precheck_reports_an_existing_invoice_instead_of_creating_it_again(qb, qbo):
    party = customer(qb)
    first = invoice(party, code(qb, "Standard rated (15%)"), price="1234.5678", quantity="1.5", discount="10")
    [made] = qb.create_invoices([first], unique("inv"))
    assert made.ok and made.number == first.reference
    stored = qbo.state.books.records["Invoice"][made.target_id]
    assert stored["TotalAmt"] == Decimal("1916.67") and stored["DocNumber"] == first.reference
    before = qb.stats.snapshot()["per_endpoint"]["POST /batch"]
    [again] = qb.create_invoices([first], unique("inv"))
    assert again == made
    assert qb.stats.snapshot()["per_endpoint"]["POST /batch"] == before  # nothing sent
    assert sum(i.get("DocNumber") == first.reference for i in qbo.state.books.all("Invoice")) == 1


def test_a_lost_answer_is_replayed_by_requestid_when_the_lookup_cannot_see_it_yet(qb, qbo):
    party = customer(qb)
    lost = invoice(party, code(qb, "Standard rated (15%)"))
    key = unique("inv")
    qbo.state.books.query_lag_s = 60.0  # QBO's query index has not caught up with the write yet
    qbo.state.faults.add_rule("commit_then_fail", f"/v3/company/{qbo.realm_id}/batch", "POST")
    with pytest.raises(UncertainWrite) as raised:
        qb.create_invoices([lost], key)
    assert raised.value.idempotency_key == key
    [settled] = qb.create_invoices([lost], key)  # the pre-check misses; QBO replays by requestid
    written = [i for i in qbo.state.books.all("Invoice") if i.get("DocNumber") == lost.reference]
    assert len(written) == 1 and settled.ok and settled.target_id == written[0]["Id"]


def test_more_than_30_are_refused_before_anything_is_sent(qb):
    party = Party(name="X", crm_id="x", accounting_id="1")
    with pytest.raises(ValueError):
        qb.create_invoices([invoice(party, "1") for _ in range(31)], unique("inv"))
    with pytest.raises(ValueError):
        qb.create_contacts([Party(name=f"P{n}", crm_id=f"p{n}") for n in range(31)], unique("c"))
    assert qb.stats.snapshot()["calls"] == 0


def test_a_partial_batch_answers_per_invoice(qb):
    party = customer(qb)
    standard, old = code(qb, "Standard rated (15%)"), code(qb, "Standard rated (14%)")
    no_customer = invoice(Party(name="n", crm_id="n"), standard)
    batch = [invoice(party, standard), invoice(party, old), no_customer, invoice(party, standard)]
    results = qb.create_invoices(batch, unique("inv"))
    assert [r.key for r in results] == [i.reference for i in batch]
    assert [r.ok for r in results] == [True, False, False, True]
    assert "inactive" in results[1].errors[0] and "(code 6000)" in results[1].errors[0]
    assert "no QuickBooks Customer Id" in results[2].errors[0]
    assert results[0].target_id != results[3].target_id


def test_payments_and_credits_are_told_apart_and_paid_means_paid(qb, qbo):
    party = customer(qb)
    standard = code(qb, "Standard rated (15%)")
    [made] = qb.create_invoices([invoice(party, standard)], unique("inv"))  # 1000 + 150 VAT
    pay(qbo, party, [("Invoice", made.target_id, "500.00")], "500.00", "2026-11-05")
    with raw(qbo) as http:
        memo = http.post("/creditmemo", content=jsonio.dumpb({
            "CustomerRef": {"value": party.accounting_id}, "Line": [{
                "DetailType": "SalesItemLineDetail", "Amount": Decimal("100.00"), "SalesItemLineDetail": {
                    "ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 100, "TaxCodeRef": {"value": standard}}}]
        })).json()["CreditMemo"]
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    pay(qbo, party, [("Invoice", made.target_id, "115.00"), ("CreditMemo", memo["Id"], "115.00")], "0", "2026-11-06")
    [open_] = qb.invoices_by_ids([made.target_id])
    assert (open_.amount_due, open_.amount_paid, open_.amount_credited) == (Decimal(535), Decimal(500), Decimal(115))
    assert open_.status is InvoiceStatus.AUTHORISED and open_.fully_paid_on is None
    assert (open_.total, open_.total_tax, open_.subtotal) == (Decimal(1150), Decimal(150), Decimal(1000))
    credits = [c for page in qb.credit_notes_modified_since(since) for c in page]
    assert [(c.id, c.invoice_ids) for c in credits] == [(memo["Id"], (made.target_id,))]
    pay(qbo, party, [("Invoice", made.target_id, "535.00")], "535.00", "2026-11-09")
    [paid] = qb.invoices_by_ids([made.target_id, "999999"])
    assert paid.status is InvoiceStatus.PAID and paid.fully_paid_on == date(2026, 11, 9)
    assert (paid.amount_paid, paid.amount_credited, paid.amount_due) == (Decimal(1035), Decimal(115), Decimal(0))
    changes = [c for page in qb.payments_modified_since(since) for c in page]
    assert all(c.invoice_ids == (made.target_id,) for c in changes) and len(changes) == 3


def test_void_and_delete_come_back_as_voided_and_deleted(qb, qbo):
    party = customer(qb)
    standard = code(qb, "Standard rated (15%)")
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    voided, deleted = qb.create_invoices([invoice(party, standard), invoice(party, standard)], unique("inv"))
    with raw(qbo) as http:
        for made, operation in ((voided, "void"), (deleted, "delete")):
            token = http.get(f"/invoice/{made.target_id}").json()["Invoice"]["SyncToken"]
            http.post("/invoice", params={"operation": operation},
                      content=jsonio.dumpb({"Id": made.target_id, "SyncToken": token}))
    delta = {i.id: i for page in qb.invoices_modified_since(since) for i in page}
    assert delta[voided.target_id].status is InvoiceStatus.VOIDED and delta[voided.target_id].total == 0
    assert delta[deleted.target_id].status is InvoiceStatus.DELETED and not delta[deleted.target_id].live
    assert qb.stats.snapshot()["per_endpoint"].get("GET /cdc") == 1
    found = qb.find_invoices_by_reference([delta[voided.target_id].reference])
    assert found[delta[voided.target_id].reference].status is InvoiceStatus.VOIDED
    [again] = qb.create_invoices([invoice(party, standard, reference=delta[voided.target_id].reference)],
                                 unique("inv"))
    assert again.ok and again.target_id != voided.target_id  # a voided invoice is not a live one


def test_delta_past_cdc_s_1000_falls_back_to_a_keyset_query_each_record_once():
    sandbox = start_quickbooks_sandbox(seed=42, limits=False)
    qb, _ = connect(sandbox)
    try:
        books = sandbox.state.books
        customer_id = next(iter(books.records["Customer"]))
        tax = next(c["Id"] for c in books.all("TaxCode") if c["Name"] == "Zero-rated")
        line = {"DetailType": "SalesItemLineDetail", "Amount": Decimal("10.00"), "SalesItemLineDetail": {
            "ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 10, "TaxCodeRef": {"value": tax}}}
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        with sandbox.state.lock:
            made = [create_sales(books, "Invoice", {"CustomerRef": {"value": customer_id}, "Line": [line],
                                                    "DocNumber": f"B-{n}"})["Id"] for n in range(1010)]
        pages = qb.invoices_modified_since(since, page_size=300)
        seen = [i.id for i in next(pages)]
        moved = seen[0]  # already read, then edited a second later: every later row moves up one
        with sandbox.state.lock:
            current = books.records["Invoice"][moved]
            update_sales(books, "Invoice", {"Id": moved, "SyncToken": current["SyncToken"], "sparse": True,
                                            "PrivateNote": "edited meanwhile"})
            edited = books.records["Invoice"][moved]
            edited["_updated_ms"] = books.clock.stamp(after=edited["_updated_ms"] + 1000)
        rest = [i for page in pages for i in page]
        seen += [i.id for i in rest]
        assert sorted(set(seen), key=int) == made  # none skipped (offset paging would skip one here)
        assert len(seen) == len(made) + 1 and seen.count(moved) == 2  # the edit is read again, last
        assert rest[-1].id == moved and rest[-1].updated_at > rest[0].updated_at
        calls = qb.stats.snapshot()["per_endpoint"]
        assert calls["GET /cdc"] == 1 and calls["GET /query"] >= 4
        old = list(qb.invoices_modified_since(datetime.now(timezone.utc) - timedelta(days=45), page_size=1000))
        assert sum(map(len, old)) == 1010 and qb.stats.snapshot()["per_endpoint"]["GET /cdc"] == 1
    finally:
        qb.close()
        sandbox.stop(save=False)


def test_open_balances_per_customer_and_currency(qb):
    rand, dollar = customer(qb), customer(qb, currency="USD")
    standard, exports = code(qb, "Standard rated (15%)"), code(qb, "Zero-rated exports")
    results = qb.create_invoices([invoice(rand, standard, price="200"), invoice(rand, standard, price="100"),
                                  invoice(dollar, exports, price="99.99", currency="USD")], unique("inv"))
    assert all(r.ok for r in results), results
    owed = qb.open_balances([rand.accounting_id, dollar.accounting_id, "424242"])
    assert owed == {rand.accounting_id: {"ZAR": Decimal("345.00")}, dollar.accounting_id: {"USD": Decimal("99.99")}}


# ---- limits, errors, auth, logs ----------------------------------------------------------------
def test_throttle_exceeded_becomes_rate_limited_with_qbo_s_60_second_wait():
    sandbox = start_quickbooks_sandbox(limits=True, limit_overrides={"per_minute": 1})
    qb, _ = connect(sandbox, retry=RetryPolicy(max_attempts=1))
    try:
        qb.home_currency()
        with pytest.raises(RateLimited) as raised:
            qb.tax_rates()
        assert raised.value.retry_after == 60 and raised.value.status == 429
        assert "ThrottleExceeded" in str(raised.value) and "(code 3001)" in str(raised.value)
    finally:
        qb.close()
        sandbox.stop(save=False)


def test_client_pacing_keeps_batches_inside_qbo_s_budget():
    scale = 40.0  # QBO's minute lasts 1.5 seconds, on both sides
    sandbox = start_quickbooks_sandbox(limits=True, time_scale=scale)
    limits = {bucket: budget.scaled(1 / scale) for bucket, budget in quickbooks_limits().items()}
    paced, _ = connect(sandbox, limits=limits, retry=RetryPolicy(max_attempts=1))
    unpaced, _ = connect(sandbox, retry=RetryPolicy(max_attempts=1))
    try:
        started = time.monotonic()
        for n in range(44):
            assert paced.create_contacts([Party(name=f"Paced {n}", crm_id=f"p{n}")], f"k{n}")[0].ok
        assert time.monotonic() - started >= 1.4  # the 41st waited for the batch window to move
        assert sandbox.state.stats.snapshot()["rate_limited"] == 0
        httpx.post(f"{sandbox.url}/_sandbox/limits", json={"enabled": True})
        with pytest.raises(RateLimited):
            for n in range(44):
                unpaced.create_contacts([Party(name=f"Unpaced {n}", crm_id=f"u{n}")], f"u{n}")
    finally:
        paced.close()
        unpaced.close()
        sandbox.stop(save=False)


def test_errors_are_typed_and_carry_the_vendor_s_words(qb, qbo):
    with pytest.raises(ValidationRejected) as raised:
        qb.api.query("select * from Customer where AcctNum = 'crm-1'")
    assert "QueryValidationError: property 'AcctNum' is not queryable" in str(raised.value)
    assert "(code 4001)" in str(raised.value) and raised.value.status == 400
    store = InMemoryTokenStore()
    store.save("dead", "quickbooks", TokenSet.of("expired", "spent-refresh-token", NOW + timedelta(minutes=30)))
    dead = QuickBooksConnector(qbo.api_url, qbo.realm_id, store, qbo.client_id, qbo.client_secret,
                               qbo.token_url, "dead", limits=None)
    dead.auth.rotation_waits = (0.0,)  # no other process rotates here: do not wait for one
    try:
        with pytest.raises(Unauthorized) as refused:
            dead.tax_rates()
        assert "invalid_grant" in str(refused.value)
    finally:
        dead.close()


def test_rotated_refresh_token_is_saved_and_no_secret_reaches_the_logs(qbo, caplog):
    caplog.set_level(logging.DEBUG)
    qb, store = connect(qbo, tenant="rotating")
    before = store.load("rotating", "quickbooks")
    try:
        httpx.post(f"{qbo.url}/_sandbox/quickbooks/expire-tokens")
        assert qb.tax_rates()
        after = store.load("rotating", "quickbooks")
        assert after.refresh_token.get_secret_value() == qbo.refresh_token
        assert after.refresh_token.get_secret_value() != before.refresh_token.get_secret_value()
        assert qb.stats.snapshot()["token_refreshes"] == 1
        with pytest.raises(ValidationRejected):
            qb.api.query("select * from Customer where AcctNum = 'x'")
    finally:
        qb.close()
    secrets = [qbo.client_secret, before.access_token.get_secret_value(), before.refresh_token.get_secret_value(),
               after.access_token.get_secret_value(), after.refresh_token.get_secret_value()]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "uncertain" not in logged and "/query" in logged  # the log was written, and read here
    for secret in secrets:
        assert secret not in logged
