"""Named transforms: the small pieces of code a declared handoff may use where YAML cannot say it.

A transform turns one source record into a flat dict of values (Decimal money, dates, strings)
that the spec's `derive` rules, `properties` templates and triggers then use. Register one with
`@transform("name")`; a spec names it with `transform: name`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ledgerlink.timestamps import parse_timestamp

Transform = Callable[[dict, ZoneInfo], dict[str, Any]]
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


def _money(record: dict, key: str) -> Decimal:
    value = record.get(key, 0) or 0
    if isinstance(value, float):
        raise TransformError(f"{key} arrived as a float; refusing to guess its cents")
    return Decimal(str(value))


@transform("xero_invoice_payment")
def xero_invoice_payment(invoice: dict, tz: ZoneInfo) -> dict[str, Any]:
    """What an invoice says about being paid. Xero's AmountDue is already net of payments,
    credit notes and overpayment allocations; amounts keep the invoice's own currency."""
    try:
        total = _money(invoice, "Total")
        paid = _money(invoice, "AmountPaid")
        amount_due = _money(invoice, "AmountDue")
        credited = _money(invoice, "AmountCredited")
        due_at = parse_timestamp(invoice.get("DueDateString") or invoice.get("DueDate"))
        paid_at = parse_timestamp(invoice.get("FullyPaidOnDate"))
    except (ValueError, ArithmeticError) as err:
        raise TransformError(f"cannot read invoice {invoice.get('InvoiceNumber')}: {err}") from None
    due_date = due_at.date() if due_at else None
    unpaid = invoice.get("Status") in ("AUTHORISED", "SUBMITTED") and amount_due > 0
    return {
        "status": invoice.get("Status"),
        "invoice_number": invoice.get("InvoiceNumber"),
        "currency": invoice.get("CurrencyCode"),
        "total": total,
        "amount_paid": paid,
        "amount_due": amount_due,
        "amount_credited": credited,
        "paid_ratio": (paid / total) if total > 0 else Decimal(0),
        "due_date": due_date,
        # only an unpaid invoice can turn overdue, so only it needs a second look on that day
        "overdue_from": due_date + timedelta(days=1) if due_date and unpaid else None,
        "paid_date": paid_at.astimezone(tz).date() if paid_at else None,
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
