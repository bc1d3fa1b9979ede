"""Rows of the won-deal-to-invoice gate frame, and one Gate per test module.

A row starts as a deal that passes every expectation; each test changes only what it is about,
so a failure can only come from that change. Loading GX is the slow part, so the Gate is built
once per module. (Tests run with --import-mode=importlib, so helpers reach them as fixtures.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from expectations.gate import Gate

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "won_deal_to_invoice.yaml"
TENANT_PARAMETERS = {"tenant_currencies": ["ZAR", "USD"]}


def good_row(deal_id: str = "deal-good", **changes) -> dict:
    """A won deal ready to invoice: R1 500.00 excl. VAT over two lines, 30-day terms."""
    row = {
        "deal_id": deal_id,
        "deal_name": "Annual support - Acme",
        "company_id": "company-1",
        "customer_name": "Acme (Pty) Ltd",
        "vat_number": "4123456789",
        "currency": "ZAR",
        "amount_cents": 150000,
        "lines_total_cents": 150000,
        "line_count": 2,
        "min_line_quantity": "1",
        "min_line_unit_cents": 50000,
        "unknown_tax_code": None,
        "issue_date": dt.date(2024, 3, 1),
        "due_date": dt.date(2024, 3, 31),
    }
    row.update(changes)
    return row


def no_lines_row(deal_id: str, **changes) -> dict:
    """A deal won without line items, as the transform produces it: nothing to take a minimum of."""
    changes = {"line_count": 0, "lines_total_cents": None, "min_line_quantity": None,
               "min_line_unit_cents": None, **changes}
    return good_row(deal_id, **changes)


def mixed_batch(size: int) -> list[dict]:
    """`size` rows where every tenth row is bad in one of several ways (for timing)."""
    bad = [
        {"amount_cents": -150000, "lines_total_cents": -150000},
        {"vat_number": "123"},
        {"due_date": dt.date(2024, 2, 1)},
        {"currency": "EUR"},
        {"unknown_tax_code": "VAT15"},
        {"lines_total_cents": 140000},
    ]
    return [
        good_row(f"deal-{n:05d}", **(bad[(n // 10) % len(bad)] if n % 10 == 9 else {}))
        for n in range(size)
    ]


@pytest.fixture(scope="module")
def won_deal_gate() -> Gate:
    return Gate(SUITE_PATH, key_column="deal_id")


@pytest.fixture
def rows():
    """The row builders: `rows.good(...)`, `rows.no_lines(...)`, `rows.mixed(n)`."""

    class Rows:
        good = staticmethod(good_row)
        no_lines = staticmethod(no_lines_row)
        mixed = staticmethod(mixed_batch)
        tenant = TENANT_PARAMETERS
        suite_path = SUITE_PATH

    return Rows
