"""Xero connector against the Xero emulator: per-item batch results, replays, lookups, OAuth."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from connectors.errors import BadResponse, UncertainWrite
from connectors.oauth import InMemoryTokenStore, TokenSet
from connectors.ratelimit import XERO_LIMITS
from connectors.sandbox import start_sandboxes
from connectors.xero import XeroConnector
from ledgerlink.model import Invoice, InvoiceLine, InvoiceStatus, Party, TaxTreatment
from ledgerlink.money import Money


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fault(sandboxes, **rule) -> None:
    response = httpx.post(f"{sandboxes.xero_url}/_sandbox/faults", json=rule)
    assert response.status_code == 201, response.text


@pytest.fixture(autouse=True)
def _no_leftover_faults(sandboxes):
    yield
    httpx.delete(f"{sandboxes.xero_url}/_sandbox/faults")


@pytest.fixture
def customer(xero) -> Party:
    crm_id = unique("crm")
    [result] = xero.create_contacts([Party(name=f"Karoo Traders {crm_id}", crm_id=crm_id)],
                                    unique("contacts"))
    assert result.ok
    return Party(name="Karoo Traders", crm_id=crm_id, accounting_id=result.target_id)


def make_invoice(customer: Party, reference: str | None = None, price: str = "1234.5678",
                 tax_type: str = "OUTPUT3") -> Invoice:
    line = InvoiceLine(description="Irrigation survey", quantity=Decimal("1.5"),
                       unit_price=Money.of(price, "ZAR"), discount_percent=Decimal("10"),
                       tax_treatment=TaxTreatment.STANDARD, tax_rate=Decimal("0.15"),
                       tax_type=tax_type, account_code="200")
    return Invoice(deal_id="d", reference=reference or unique("LL"), customer=customer,
                   currency="ZAR", issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2),
                   lines=(line,))


def test_settings_reads(xero):
    rates = {rate.code: rate for rate in xero.tax_rates()}
    assert rates["OUTPUT3"].rate == Decimal("0.15") and rates["OUTPUT3"].active
    assert "ZAR" in {currency["Code"] for currency in xero.currencies()}
    assert xero.organisation()["BaseCurrency"] == "ZAR"


def test_create_contacts_per_item_and_find_them_by_contact_number(xero, sandboxes):
    good, bad = unique("crm"), unique("crm")
    parties = [Party(name=f"Acme {good}", crm_id=good, email="accounts@acme.co.za",
                     currency="ZAR", payment_terms_days=30),
               Party(name=f"Broken {bad}", crm_id=bad, email="not-an-email")]
    results = xero.create_contacts(parties, unique("contacts"))
    assert [r.key for r in results] == [good, bad]
    assert results[0].ok and results[0].target_id
    assert not results[1].ok and "Email" in results[1].errors[0]
    found = xero.find_contacts_by_crm_id([good, bad])
    assert list(found) == [good]
    assert found[good].id == results[0].target_id and found[good].crm_id == good
    stored = sandboxes.xero.default_books.contacts[results[0].target_id]
    assert stored["PaymentTerms"]["Sales"] == {"Day": 30, "Type": "DAYSAFTERBILLDATE"}


def test_more_than_fifty_per_call_is_refused_before_sending(xero):
    parties = [Party(name=f"P{n}", crm_id=f"p{n}") for n in range(51)]
    with pytest.raises(ValueError):
        xero.create_contacts(parties, "too-many")
    with pytest.raises(ValueError):
        xero.create_invoices([make_invoice(Party("x", accounting_id="y"))], "x" * 129)
    assert xero.stats.snapshot()["calls"] == 0


def test_create_invoices_partial_batch_reports_each_item(xero, customer):
    good = make_invoice(customer)
    unknown_contact = make_invoice(Party(name="Ghost", accounting_id=str(uuid.uuid4())))
    old_tax_code = make_invoice(customer, tax_type="OUTPUT")  # the retired 14% code
    results = xero.create_invoices([good, unknown_contact, old_tax_code], unique("inv"))
    assert [r.key for r in results] == [good.reference, unknown_contact.reference,
                                        old_tax_code.reference]
    assert results[0].ok and results[0].target_id and results[0].number
    assert not results[1].ok and "could not be found" in results[1].errors[0]
    assert not results[2].ok and any("OUTPUT" in e for e in results[2].errors)
    found = xero.find_invoices_by_reference([i.reference for i in (good, unknown_contact)])
    assert list(found) == [good.reference]


def test_amounts_round_trip_exactly(xero, customer, sandboxes):
    invoice = make_invoice(customer, price="1234.5678")
    [result] = xero.create_invoices([invoice], unique("inv"))
    found = xero.find_invoices_by_reference([invoice.reference])[invoice.reference]
    assert (found.subtotal, found.number, found.lines[0].net) == (Decimal("1666.67"), result.number, Decimal("1666.67"))
    stored = sandboxes.xero.default_books.invoices[found.id]
    line = stored["LineItems"][0]
    assert line["UnitAmount"] == Decimal("1234.5678") and isinstance(line["UnitAmount"], Decimal)
    assert line["Quantity"] == Decimal("1.5")
    assert stored["SubTotal"] == Decimal("1666.67")  # 1.5 × 1234.5678 less 10 %, to the cent
    assert stored["InvoiceNumber"] == result.number


def test_idempotent_replay_creates_nothing(xero, customer, sandboxes):
    invoices = [make_invoice(customer) for _ in range(3)]
    key = unique("batch")
    first = xero.create_invoices(invoices, key)
    count = len(sandboxes.xero.default_books.invoices)
    again = xero.create_invoices(invoices, key)
    assert again == first
    assert len(sandboxes.xero.default_books.invoices) == count


def test_uncertain_write_is_not_resent_and_is_settled_by_lookup(xero, customer, sandboxes):
    invoice = make_invoice(customer)
    fault(sandboxes, kind="commit_then_fail", method="PUT", status=502,
          path="/api.xro/2.0/Invoices")
    with pytest.raises(UncertainWrite) as err:
        xero.create_invoices([invoice], "settle-me-" + invoice.reference)
    assert err.value.idempotency_key == "settle-me-" + invoice.reference
    assert xero.stats.snapshot()["per_endpoint"]["PUT /Invoices"] == 1  # never re-sent
    found = xero.find_invoices_by_reference([invoice.reference])
    assert found[invoice.reference].status == InvoiceStatus.AUTHORISED  # it was committed after all


def test_write_answered_429_is_retried_and_creates_one_invoice(xero, customer, sandboxes):
    invoice = make_invoice(customer)
    fault(sandboxes, kind="rate_limit", method="PUT", path="/api.xro/2.0/Invoices",
          retry_after="1")
    [result] = xero.create_invoices([invoice], unique("inv"))
    assert result.ok
    assert xero.stats.snapshot()["rate_limited"] == 1
    assert [i for i in sandboxes.xero.default_books.invoices.values()
            if i.get("Reference") == invoice.reference].__len__() == 1


def test_find_invoices_by_reference_in_url_sized_chunks(xero, customer):
    refs = [unique('LL "quoted"') for _ in range(3)] + [unique("LL") for _ in range(57)]
    for start in range(0, 60, 50):
        xero.create_invoices([make_invoice(customer, r) for r in refs[start:start + 50]],
                             unique("inv"))
    before = xero.stats.snapshot()["per_endpoint"].get("GET /Invoices", 0)
    found = xero.find_invoices_by_reference(refs + ["LL-never-created"])
    calls = xero.stats.snapshot()["per_endpoint"]["GET /Invoices"] - before
    assert set(found) == set(refs)
    assert 2 <= calls <= 4  # chunked, not one call per reference


def test_invoices_modified_since_pages_oldest_first(xero, customer):
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    mine = [make_invoice(customer) for _ in range(5)]
    xero.create_invoices(mine, unique("inv"))
    pages = list(xero.invoices_modified_since(since, page_size=2))
    records = [r for p in pages for r in p]
    assert {i.reference for i in mine} <= {r.reference for r in records}
    assert all(len(p) <= 2 for p in pages)
    stamps = [r.updated_at for r in records]
    assert stamps == sorted(stamps)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert list(xero.invoices_modified_since(later)) == []


def test_malformed_json_is_a_bad_response_not_a_crash(xero, sandboxes):
    fault(sandboxes, kind="malformed_json", method="GET", path="/api.xro/2.0/Currencies")
    with pytest.raises(BadResponse) as err:
        xero.currencies()
    assert err.value.raw and "\n" not in str(err.value)


def test_refresh_rotation_is_persisted_and_the_old_token_is_dead(sandboxes, token_store):
    old_refresh = token_store.load("acme", "xero").refresh_token.get_secret_value()
    sandboxes.xero.auth.expire_all()  # the stored access token now answers 401
    with XeroConnector(sandboxes.xero_api_url, sandboxes.xero_tenant_id, token_store,
                       sandboxes.xero_client_id, sandboxes.xero_client_secret,
                       sandboxes.xero_token_url, "acme", limits=None) as xero:
        assert xero.organisation()["Name"]
        assert xero.stats.snapshot()["token_refreshes"] == 1
    saved = type(token_store)(token_store.path).load("acme", "xero")  # re-read the file
    assert saved.refresh_token.get_secret_value() == sandboxes.xero_refresh_token != old_refresh
    reuse = httpx.post(sandboxes.xero_token_url, auth=(sandboxes.xero_client_id,
                                                       sandboxes.xero_client_secret),
                       data={"grant_type": "refresh_token", "refresh_token": old_refresh})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"


def test_workers_of_one_tenant_stay_within_five_concurrent_calls():
    """Twelve threads, each with its own connector, share the tenant's budget of 5 in flight;
    the emulator (limits on, every call held 150 ms) never has to refuse one."""
    running = start_sandboxes(limits=True)
    try:
        # A "slow" fault holds the call inside the emulator's concurrency slot.
        fault(running, kind="slow", delay_s=0.15, times=None, path="/api.xro/2.0/Currencies")
        store = InMemoryTokenStore()
        store.save("acme", "xero", TokenSet.of(
            running.xero_access_token(), running.xero_refresh_token,
            datetime.now(timezone.utc) + timedelta(minutes=30)))
        connectors = [XeroConnector(running.xero_api_url, running.xero_tenant_id, store,
                                    running.xero_client_id, running.xero_client_secret,
                                    running.xero_token_url, "acme", limits=XERO_LIMITS)
                      for _ in range(12)]
        threads = [threading.Thread(target=c.currencies) for c in connectors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = [c.stats.snapshot() for c in connectors]
        assert sum(s["calls"] for s in stats) == 12
        assert sum(s["rate_limited"] for s in stats) == 0
        assert connectors[0].http.limiter() is connectors[11].http.limiter()
        for c in connectors:
            c.close()
    finally:
        running.stop(save=False)
