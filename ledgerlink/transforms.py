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
from ledgerlink.money import MoneyError, shown, to_amount

Transform = Callable[[Any, ZoneInfo], dict[str, Any]]
TRANSFORMS: dict[str, Transform] = {}


class TransformError(ValueError):
    """A source record a transform cannot read; becomes an exception item, never a crash."""


# Amounts finer than this are no accounting system's money; refusing them also bounds a ratio of two
# amounts (paid / total), so every value a transform hands on renders to text without overflowing.
_FINEST = Decimal("1E-6")


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
    what = f"invoice {shown(invoice.number or invoice.id)}"
    if not isinstance(invoice.status, InvoiceStatus):
        raise TransformError(f"{what}: status {shown(invoice.status)} is not an invoice status")
    for name in ("number", "currency"):
        if not isinstance(getattr(invoice, name), (str, type(None))):
            raise TransformError(f"{what}: {name} is a {type(getattr(invoice, name)).__name__}, not text")
    total, paid, due, credited = (_amount(invoice, name, what)
                                  for name in ("total", "amount_paid", "amount_due", "amount_credited"))
    due_date, paid_date = _day(invoice, "due_date", what), _day(invoice, "fully_paid_on", what)
    unpaid = invoice.status in (InvoiceStatus.AUTHORISED, InvoiceStatus.SUBMITTED) and due > 0
    return {
        "status": invoice.status.value,
        "invoice_number": invoice.number,
        "currency": invoice.currency,
        "total": total,
        "amount_paid": paid,
        "amount_due": due,
        "amount_credited": credited,
        "paid_ratio": (paid / total) if total > 0 else Decimal(0),
        "due_date": due_date,
        # only an unpaid invoice can turn overdue, so only it needs a second look on that day (an
        # invoice due on the last day of the calendar never turns overdue)
        "overdue_from": due_date + timedelta(days=1) if due_date and unpaid and due_date < date.max else None,
        "paid_date": paid_date,
        "today": today(tz),
    }


def _amount(invoice: LedgerInvoice, name: str, what: str) -> Decimal:
    value = getattr(invoice, name)
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TransformError(f"{what}: {name} is a {type(value).__name__}, not an amount")
    try:
        amount = to_amount(value, name)
    except MoneyError as err:
        raise TransformError(f"{what}: {err}") from None
    if amount != amount.quantize(_FINEST):
        raise TransformError(f"{what}: {name} has more than 6 decimal places (got {shown(value)})")
    return amount


def _day(invoice: LedgerInvoice, name: str, what: str) -> date | None:
    value = getattr(invoice, name)
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise TransformError(f"{what}: {name} is a {type(value).__name__}, not a calendar date")
    return value


def render(value: Any) -> str:
    """How a value is written to a CRM text/number/date property."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
