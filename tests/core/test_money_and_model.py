"""Money is Decimal + currency; VAT per line; nothing is ever a float."""

from decimal import Decimal

import pytest

from ledgerlink.model import DealLine, Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money, MoneyError
from datetime import date


def test_money_refuses_floats_unknown_currencies_and_mixing():
    with pytest.raises(MoneyError, match="float"):
        Money.of(0.1, "ZAR")
    with pytest.raises(MoneyError, match="unknown currency 'XXX'"):
        Money.of("1", "XXX")
    with pytest.raises(MoneyError, match="not a number"):
        Money.of("12,5O", "ZAR")
    with pytest.raises(MoneyError, match="finite"):
        Money.of("NaN", "ZAR")
    with pytest.raises(MoneyError, match="cannot combine ZAR with USD"):
        Money.of("1", "ZAR") + Money.of("1", "USD")


def test_rounding_is_half_up_per_currency_minor_unit():
    assert Money.of("0.005", "ZAR").rounded().amount == Decimal("0.01")
    assert Money.of("2.5", "JPY").to_minor() == 3
    assert Money.from_minor(-150050, "ZAR").amount == Decimal("-1500.50")
    assert str(Money.of("1234567.891", "ZAR")) == "ZAR 1,234,567.89"


def test_line_net_amount_applies_discount_and_rounds_per_line():
    line = DealLine("Tent", Decimal("3"), Money.of("33.335", "ZAR"), Decimal("10"))
    assert line.net_amount == Money.of("90.00", "ZAR")  # 3 × 33.335 × 0.9 = 90.0045


def test_invoice_totals_mix_vat_treatments_to_the_cent():
    def line(price, treatment, rate, tax_type):
        return InvoiceLine("x", Decimal("1"), Money.of(price, "ZAR"), Decimal(0), treatment, Decimal(rate), tax_type)

    invoice = Invoice("d1", "DEAL-d1", Party("Karoo"), "ZAR", date(2026, 1, 1), date(2026, 1, 31), (
        line("100.03", TaxTreatment.STANDARD, "0.15", "OUTPUT3"),  # VAT 15.0045 → 15.00
        line("50.00", TaxTreatment.ZERO_RATED, "0", "ZERORATED"),
        line("20.00", TaxTreatment.EXEMPT, "0", "EXEMPTOUTPUT"),
    ))
    assert invoice.subtotal == Money.of("170.03", "ZAR")
    assert invoice.total_tax == Money.of("15.00", "ZAR")
    assert invoice.total == Money.of("185.03", "ZAR")
