"""Named transforms: the small pieces of code a declared handoff may use where YAML cannot say it.

A transform turns one canonical source record (`ledgerlink.ledger`) into a flat dict of values (Decimal money, dates, strings)
that the spec's `derive` rules, `properties` templates and triggers then use. Register one with
`@transform("name")`; a spec names it with `transform: name`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ledgerlink.ledger import LedgerInvoice
from ledgerlink.model import InvoiceStatus

Transform = Callable[[Any, ZoneInfo], dict[str, Any]]
TRANSFORMS: dict[str, Transform] = {}


class TransformError(ValueError):
    """A source record a transform cannot read; becomes an exception item, never a crash."""


def transform(name: str) -> Callable[[Transform], Transform]:
    def register(function: Transform) -> Transform:
        TRANSFORMS[name] = function
        return function
    return register


def get_transform(name: str) -> Transform:
    if name not in TRANSFORMS:
        raise KeyError(f"no transform named {name!r} (known: {', '.join(sorted(TRANSFORMS))})")
    return TRANSFORMS[name]


def today(tz: ZoneInfo) -> date:
    """The tenant's calendar date: the one clock every date rule (overdue, revisits) reads."""
    return datetime.now(tz).date()


@transform("invoice_payment")
def invoice_payment(invoice: LedgerInvoice, tz: ZoneInfo) -> dict[str, Any]:
    """What an invoice says about being paid, from the canonical invoice of any accounting system
    (its `amount_due` is already net of payments and credits); amounts keep the invoice's currency."""
    if not isinstance(invoice, LedgerInvoice):
        raise TransformError(f"invoice_payment reads canonical invoices, not {type(invoice).__name__}")
    status = invoice.status.value
    unpaid = invoice.status in (InvoiceStatus.AUTHORISED, InvoiceStatus.SUBMITTED) and invoice.amount_due > 0
    due_date = invoice.due_date
    return {
        "status": status,
        "invoice_number": invoice.number,
        "currency": invoice.currency,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount_due,
        "amount_credited": invoice.amount_credited,
        "paid_ratio": (invoice.amount_paid / invoice.total) if invoice.total > 0 else Decimal(0),
        "due_date": due_date,
        # only an unpaid invoice can turn overdue, so only it needs a second look on that day
        "overdue_from": due_date + timedelta(days=1) if due_date and unpaid else None,
        "paid_date": invoice.fully_paid_on,
        "today": today(tz),
    }


def render(value: Any) -> str:
    """How a value is written to a CRM text/number/date property."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
