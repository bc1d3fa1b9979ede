"""What every outcome of bad input must look like: exact money, and reasons a person can read.

Money: a gate row carries amounts as `int` cents (never float, never bool); an invoice holds only
Decimals and `Money`, and its totals are the Decimal sums of its lines, each rounded half-up to the
currency's minor unit. Reasons: an exception item's detail is one line of printable text, short,
with no e-mail address left readable and no 100 kB value echoed back.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from pathlib import Path

import yaml

from badinput_values import leaked_email, readable_problem
from ledgerlink.model import Invoice
from ledgerlink.money import Money, minor_units
from ledgerlink.store.exception_queue import NewException

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_LIMIT = 300  # one MappingError or one gate failure
DETAIL_LIMIT = 1000  # everything one exception item says
CENT_COLUMNS = ("amount_cents", "lines_total_cents", "min_line_unit_cents")


def reason_codes(suite: str) -> set[str]:
    data = yaml.safe_load((ROOT / "expectations" / suite).read_text(encoding="utf-8"))
    return {entry["meta"]["reason_code"] for entry in data["expectations"]}


def floats_in(value, where: str = "") -> list[str]:
    """Every place a float hides in a row, an invoice, or anything nested in them."""
    if isinstance(value, float):
        return [where or "value"]
    if isinstance(value, Enum) or isinstance(value, (str, bytes, int, Decimal)) or value is None:
        return []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [hit for f in dataclasses.fields(value)
                for hit in floats_in(getattr(value, f.name), f"{where}.{f.name}")]
    if isinstance(value, dict):
        return [hit for key, item in value.items() for hit in floats_in(item, f"{where}[{key!r}]")]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [hit for i, item in enumerate(value) for hit in floats_in(item, f"{where}[{i}]")]
    return []


def check_row(row: dict) -> None:
    """A gate row: cents are ints, nothing is a float."""
    assert not floats_in(row), f"float in gate row at {floats_in(row)}"
    for column in CENT_COLUMNS:
        value = row[column]
        assert value is None or (type(value) is int), f"{column} is {type(value).__name__}: {value!r}"
    assert type(row["line_count"]) is int


def rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def check_invoice(invoice: Invoice, row: dict) -> None:
    """An invoice: only exact types, totals that are the Decimal sums of its lines, = the deal."""
    assert not floats_in(invoice), f"float in invoice at {floats_in(invoice)}"
    currency = invoice.currency
    nets, taxes = [], []
    for line in invoice.lines:
        assert isinstance(line.quantity, Decimal) and isinstance(line.discount_percent, Decimal)
        assert isinstance(line.unit_price, Money) and isinstance(line.unit_price.amount, Decimal)
        assert isinstance(line.tax_rate, Decimal) and isinstance(line.description, str)
        assert line.sku is None or isinstance(line.sku, str)
        net = rounded(line.quantity * line.unit_price.amount * (100 - line.discount_percent) / 100, currency)
        nets.append(net)
        taxes.append(rounded(net * line.tax_rate, currency))
        assert line.net_amount == Money(net, currency) and line.tax_amount == Money(taxes[-1], currency)
    assert invoice.subtotal.amount == sum(nets, Decimal(0))
    assert invoice.total_tax.amount == sum(taxes, Decimal(0))
    assert invoice.total.amount == sum(nets, Decimal(0)) + sum(taxes, Decimal(0))
    assert invoice.subtotal.to_minor() == row["amount_cents"] == row["lines_total_cents"]
    assert isinstance(invoice.customer.name, str) and invoice.issue_date <= invoice.due_date


def problem_unreadable(problem: NewException, known_reasons: set[str]) -> str | None:
    """Why an exception item would not help the person who must fix the record (None: it would)."""
    if problem.reason_code not in known_reasons:
        return f"unknown reason code {problem.reason_code!r}"
    if not problem.owner:
        return "no owner"
    trouble = readable_problem(problem.detail, DETAIL_LIMIT)
    if trouble:
        return f"detail {trouble}: {problem.detail[:120]!r}"
    leak = leaked_email(problem.detail)
    return f"unmasked e-mail in detail: {leak!r}" if leak else None


def message_unreadable(message: str) -> str | None:
    """A single MappingError or gate message: one line, bounded (masking happens in the item)."""
    trouble = readable_problem(message, MESSAGE_LIMIT)
    return None if trouble is None else f"{trouble}: {message[:120]!r}"
