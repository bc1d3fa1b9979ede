"""Canonical Party / Invoice → Xero JSON, and Xero's date and where-clause formats."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from connectors.http import dumps_exact
from connectors.xero import (contact_payload, invoice_payload, parse_xero_date, where_literal)
from ledgerlink.model import (Address, Invoice, InvoiceLine, InvoiceStatus, Party, TaxTreatment)
from ledgerlink.money import Money


def line(price: str = "1000.00", qty: str = "2", discount: str = "0", **kw) -> InvoiceLine:
    return InvoiceLine(description="Consulting", quantity=Decimal(qty),
                       unit_price=Money.of(price, "ZAR"), discount_percent=Decimal(discount),
                       tax_treatment=TaxTreatment.STANDARD, tax_rate=Decimal("0.15"),
                       tax_type="OUTPUT3", **kw)


def invoice(*lines: InvoiceLine, status: InvoiceStatus = InvoiceStatus.AUTHORISED,
            contact_id: str | None = "c-1") -> Invoice:
    return Invoice(deal_id="901", reference="LL-DEAL-901",
                   customer=Party(name="Acme (Pty) Ltd", crm_id="501", accounting_id=contact_id),
                   currency="ZAR", issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2),
                   lines=lines or (line(),), status=status)


def test_invoice_maps_to_an_exclusive_accrec_with_exact_amounts():
    body = invoice_payload(invoice(
        line("1234.5678", "1.5", "12.5", account_code="200", sku="SKU-1"), line("10", "3")))
    assert body["Type"] == "ACCREC" and body["Contact"] == {"ContactID": "c-1"}
    assert body["Date"] == "2026-11-02" and body["DueDate"] == "2026-12-02"
    assert body["LineAmountTypes"] == "Exclusive" and body["CurrencyCode"] == "ZAR"
    assert body["Reference"] == "LL-DEAL-901" and body["Status"] == "AUTHORISED"
    first, second = body["LineItems"]
    assert first == {"Description": "Consulting", "Quantity": Decimal("1.5"),
                     "UnitAmount": Decimal("1234.5678"), "TaxType": "OUTPUT3",
                     "DiscountRate": Decimal("12.5"), "AccountCode": "200", "ItemCode": "SKU-1"}
    assert "DiscountRate" not in second
    assert '"UnitAmount":1234.5678' in dumps_exact(body)


@pytest.mark.parametrize("status,expected", [(InvoiceStatus.DRAFT, "DRAFT"),
                                             (InvoiceStatus.SUBMITTED, "SUBMITTED")])
def test_invoice_status_maps(status, expected):
    assert invoice_payload(invoice(status=status))["Status"] == expected


def test_invoice_that_cannot_be_created_is_refused_before_sending():
    with pytest.raises(ValueError, match="ContactID"):
        invoice_payload(invoice(contact_id=None))
    with pytest.raises(ValueError, match="paid"):
        invoice_payload(invoice(status=InvoiceStatus.PAID))
    with pytest.raises(ValueError, match="decimal places"):
        invoice_payload(invoice(line("1.234567")))


def test_party_maps_to_a_findable_contact():
    party = Party(name="Acme (Pty) Ltd", crm_id="501", email="accounts@acme.co.za",
                  vat_number="4123456789", currency="ZAR", payment_terms_days=30,
                  phone="+27 21 555 0100",
                  address=Address(line1="1 Loop St", city="Cape Town", postal_code="8001",
                                  country="South Africa"))
    body = contact_payload(party)
    assert body["Name"] == "Acme (Pty) Ltd" and body["ContactNumber"] == "501"
    assert body["EmailAddress"] == "accounts@acme.co.za" and body["TaxNumber"] == "4123456789"
    assert body["DefaultCurrency"] == "ZAR"
    assert body["PaymentTerms"] == {"Sales": {"Day": 30, "Type": "DAYSAFTERBILLDATE"}}
    assert [a["AddressType"] for a in body["Addresses"]] == ["POBOX", "STREET"]
    assert body["Addresses"][0]["City"] == "Cape Town"
    assert body["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "+27 21 555 0100"}]


def test_party_without_crm_id_is_refused():
    with pytest.raises(ValueError):
        contact_payload(Party(name="Nobody"))


def test_parse_xero_date():
    assert parse_xero_date("/Date(1700000000000+0000)/") == \
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert parse_xero_date("/Date(1552262400000)/") == datetime(2019, 3, 11, tzinfo=timezone.utc)
    assert parse_xero_date("/Date(1700000000000+0200)/") == \
        datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)  # the offset is informational
    assert parse_xero_date("2019-03-11T00:00:00") == datetime(2019, 3, 11, tzinfo=timezone.utc)
    assert parse_xero_date(None) is None


def test_where_literal_escapes_quotes_and_backslashes():
    assert where_literal('O"Brien \\ Sons') == '"O\\"Brien \\\\ Sons"'
