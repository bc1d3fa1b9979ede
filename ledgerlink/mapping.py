"""From an extracted CRM record bundle to a canonical invoice, in three pure steps.

1. `draft_from_bundle`: read the spec's field paths; parse numbers and dates (a value that cannot be
   parsed raises MappingError naming the field — it becomes an exception item, never a crash).
   Whatever a CRM sends — a list where text belongs, 1E+400, a date in year 9999, 100 kB of text —
   ends as a value of the declared type or as a MappingError, because `map_deals` catches nothing
   else and any other exception would stop every good deal on the page with it.
2. `gate_row`: the flat row the expectations suite validates (amounts as integer cents, never float).
3. `build_invoice`: only for rows that passed the gate; VAT decided per line from the tenant's rates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.ledger import LedgerTaxRate
from ledgerlink.model import Address, DealStatus, Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money, MoneyError, minor_units, shown, to_amount, to_minor_units
from ledgerlink.spec import CrmMapping, InvoiceSettings
from ledgerlink.timestamps import parse_timestamp


# Invoice dates a person could mean. Outside them a date is a typo (year 0026, 20266) or garbage, and
# the far ends would overflow Python's dates when the tenant's time zone or payment terms are added.
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)
_MAX_DAYS_DIGITS = 6  # payment terms of a million days are no terms; nor do they fit a gate's integer


class MappingError(ValueError):
    """A record value that cannot be read: one short line naming the field, whatever the value."""

    def __init__(self, field_name: str, value: Any, problem: str):
        self.field_name, self.value = field_name, value
        got = "" if value is None or "(got " in problem else f" (got {shown(value, 60)})"
        super().__init__(f"{field_name}: {problem}{got}")


@dataclass
class DraftLine:
    name: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    discount_percent: Decimal
    tax_code: str | None
    sku: str | None

    @property
    def net(self) -> Decimal:
        factor = (Decimal(100) - self.discount_percent) / Decimal(100)
        return (self.quantity or Decimal(0)) * (self.unit_price or Decimal(0)) * factor


@dataclass
class DealDraft:
    deal_id: str
    name: str | None
    status: DealStatus
    stage: str | None
    amount: Decimal | None
    currency: str | None
    close_date: date | None
    modified_at: datetime | None
    owner_id: str | None
    customer: dict[str, Any] | None
    lines: list[DraftLine] = field(default_factory=list)

    def checksum(self) -> str:
        """Stable hash of everything that shapes the invoice: unchanged hash, nothing to do."""
        payload = asdict(self)
        payload.pop("modified_at")
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lookup(bundle: dict, path: str) -> Any:
    current: Any = bundle
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return None if current == "" else current


def _decimal(field_name: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_amount(value, field_name)  # bounded: quantity × price stays far from Decimal's limits
    except MoneyError as err:
        raise MappingError(field_name, value, str(err)) from None


def _text(field_name: str, value: Any) -> str | None:
    """Text as the CRM connectors hand it on; a whole number may stand for its digits. A list, an
    object, a bool or a float is a broken record upstream, not a name or a code to pass along."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    raise MappingError(field_name, value, f"is a {type(value).__name__}, not text")


def _timestamp(field_name: str, value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise MappingError(field_name, value, "is not a date") from None


def _calendar_date(field_name: str, value: Any, tz: ZoneInfo) -> date | None:
    """The tenant's calendar day of a vendor timestamp, within EARLIEST_DATE..LATEST_DATE."""
    moment = _timestamp(field_name, value)
    if moment is None:
        return None
    try:
        day = moment.astimezone(tz).date()
    except OverflowError:
        day = None
    if day is None or not EARLIEST_DATE <= day <= LATEST_DATE:
        raise MappingError(field_name, value, f"is out of range ({EARLIEST_DATE} to {LATEST_DATE})")
    return day


def _whole_days(field_name: str, raw: Any) -> int:
    text = str(raw).strip()
    try:
        days = int(text)
    except ValueError:
        days = None
    if days is None or len(text.lstrip("+-")) > _MAX_DAYS_DIGITS:
        raise MappingError(field_name, raw, "is not a whole number of days")
    return days


def _vat(value: str | None) -> str | None:
    """A VAT number without the spaces, tabs and line breaks people paste with it."""
    return None if value is None else "".join(value.split())


def _draft_line(index: int, raw_line: Any, mapping: CrmMapping) -> DraftLine:
    if not isinstance(raw_line, dict):
        raise MappingError(f"line {index}", raw_line, "is not a line item record")
    values = {key: _lookup({"line": raw_line}, path) for key, path in mapping.line.items()}
    quantity = _decimal(f"line {index} quantity", values.get("quantity"))
    unit_price = _decimal(f"line {index} unit price", values.get("unit_price"))
    discount = _decimal(f"line {index} discount", values.get("discount_percent")) or Decimal(0)
    for name, value in ((f"line {index} quantity", quantity), (f"line {index} unit price", unit_price)):
        if value is None:  # a line without it has no amount: guessing 0 or 1 would invoice the wrong sum
            raise MappingError(name, value, "is missing")
    if not 0 <= discount <= 100:
        raise MappingError(f"line {index} discount", values.get("discount_percent"), "must be between 0 and 100 %")
    return DraftLine(
        name=_text(f"line {index} name", values.get("name")),
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        tax_code=_text(f"line {index} tax code", values.get("tax_code")),
        sku=_text(f"line {index} sku", values.get("sku")),
    )


def draft_from_bundle(bundle: dict, mapping: CrmMapping, tz: ZoneInfo) -> DealDraft:
    deal = {key: _lookup(bundle, path) for key, path in mapping.deal.items()}
    stage = _text("stage", deal.get("stage"))
    status = mapping.stages.get(stage, mapping.default_status) if stage is not None else mapping.default_status
    customer = None
    if bundle.get("company"):
        customer = {key: _lookup(bundle, path) for key, path in mapping.customer.items()}
        for key in ("crm_id", "name", "vat_number"):
            if key in customer:
                customer[key] = _text(f"customer {key.replace('_', ' ')}", customer[key])
    raw_lines = bundle.get("lines") or []
    if not isinstance(raw_lines, (list, tuple)):
        raise MappingError("line items", raw_lines, "are not a list of line items")
    lines = [_draft_line(index, raw_line, mapping) for index, raw_line in enumerate(raw_lines, start=1)]
    currency = _text("currency", deal.get("currency"))
    return DealDraft(
        deal_id=str(bundle["deal"]["id"]),
        name=_text("name", deal.get("name")),
        status=status,
        stage=stage,
        amount=_decimal("amount", deal.get("amount")),
        currency=None if currency is None else currency.strip().upper(),
        close_date=_calendar_date("close_date", deal.get("close_date"), tz),
        modified_at=_timestamp("modified_at", deal.get("modified_at")),
        owner_id=_text("owner_id", deal.get("owner_id")),
        customer=customer,
        lines=lines,
    )


def _cents(field_name: str, amount: Decimal | None, currency: str | None,
           rounding: str = ROUND_HALF_UP) -> int | None:
    """Integer minor units for the gate (exact; the gate never sees a float amount)."""
    try:
        return None if amount is None else to_minor_units(amount, currency, rounding)
    except MoneyError as err:
        raise MappingError(field_name, amount, str(err)) from None


def _lines_total_cents(draft: DealDraft) -> int | None:
    if not draft.lines:
        return None
    total = sum(_cents(f"line {index} amount", line.net, draft.currency)
                for index, line in enumerate(draft.lines, start=1))
    # each line is below MAX_AMOUNT, their sum need not be: it too must fit the gate's integers
    _cents("line items total", Decimal(total).scaleb(-minor_units(draft.currency or "")), draft.currency)
    return total


def payment_terms_days(draft: DealDraft, rules: InvoiceSettings) -> int:
    raw = (draft.customer or {}).get("payment_terms_days")
    days = _whole_days("customer payment terms", raw) if raw is not None else rules.default_payment_terms_days
    if not 0 <= days <= 365:
        raise MappingError("customer payment terms", raw, "must be between 0 and 365 days")
    return days


def resolve_tax(code: str | None, mapping: CrmMapping, rules: InvoiceSettings,
                active: dict[str, LedgerTaxRate]) -> tuple[TaxTreatment, LedgerTaxRate] | None:
    """CRM tax code → treatment → the tenant's active accounting tax type, or None if any step fails."""
    code = code if code is not None else mapping.default_tax_code
    treatment = mapping.tax_codes.get(code) if code is not None else None
    tax_type = rules.tax_types.get(treatment) if treatment else None
    if tax_type is None or tax_type not in active:
        return None
    return treatment, active[tax_type]


def gate_row(draft: DealDraft, mapping: CrmMapping, rules: InvoiceSettings, active: dict[str, LedgerTaxRate]) -> dict:
    customer = draft.customer or {}
    unknown = next((line.tax_code or "(none)" for line in draft.lines
                    if resolve_tax(line.tax_code, mapping, rules, active) is None), None)
    quantities = [line.quantity for line in draft.lines if line.quantity is not None]
    lowest_price = min((line.unit_price for line in draft.lines if line.unit_price is not None), default=None)
    issue = draft.close_date
    return {
        "deal_id": draft.deal_id,
        "deal_name": draft.name,
        "company_id": None if customer.get("crm_id") is None else str(customer["crm_id"]),
        "customer_name": customer.get("name"),
        "vat_number": _vat(customer.get("vat_number")),
        "currency": draft.currency,
        "amount_cents": _cents("amount", draft.amount, draft.currency),
        "lines_total_cents": _lines_total_cents(draft),
        "line_count": len(draft.lines),
        "min_line_quantity": str(min(quantities)) if quantities else None,
        # floored: a unit price below zero stays below zero in cents, however small (-0.004 is not 0)
        "min_line_unit_cents": _cents("line unit price", lowest_price, draft.currency, ROUND_FLOOR),
        "unknown_tax_code": unknown,
        "issue_date": issue,
        "due_date": issue + timedelta(days=payment_terms_days(draft, rules)) if issue else None,
    }


def read_fields(bundle: dict, paths: dict[str, str]) -> dict[str, Any]:
    """Canonical field -> value, read from a bundle by the spec's dot paths ('' counts as missing)."""
    return {key: _lookup(bundle, path) for key, path in paths.items()}


def party_from_fields(fields: dict[str, Any]) -> Party:
    """A customer from canonical fields; unreadable payment terms or non-text values raise MappingError."""
    terms = fields.get("payment_terms_days")
    if terms is not None:
        terms = _whole_days("payment terms", terms)
    text = {key: _text(key.replace("_", " "), fields.get(key)) for key in
            ("crm_id", "name", "email", "phone", "vat_number", "currency", "address_line1", "city", "postal_code",
             "country")}
    if text["crm_id"] is None:
        raise MappingError("crm id", None, "is missing")
    return Party(
        name=(text["name"] or "").strip(),
        crm_id=text["crm_id"],
        email=text["email"],
        phone=text["phone"],
        vat_number=_vat(text["vat_number"]),
        currency=text["currency"],
        payment_terms_days=terms,
        address=Address(text["address_line1"], text["city"], text["postal_code"], text["country"]),
    )


def build_invoice(draft: DealDraft, row: dict, mapping: CrmMapping, rules: InvoiceSettings,
                  active: dict[str, LedgerTaxRate], customer: Party) -> Invoice:
    """Only called for rows that passed the gate, so every value here is known to be usable."""
    lines = []
    for line in draft.lines:
        treatment, rate = resolve_tax(line.tax_code, mapping, rules, active)
        lines.append(InvoiceLine(
            description=line.name or "Item",
            quantity=line.quantity,
            unit_price=Money(line.unit_price, draft.currency),
            discount_percent=line.discount_percent,
            tax_treatment=treatment,
            tax_rate=rate.rate,
            tax_type=rate.code,
            account_code=rules.account_code,
            sku=line.sku,
        ))
    return Invoice(
        deal_id=draft.deal_id,
        reference=rules.reference.format(deal_id=draft.deal_id),
        customer=customer,
        currency=draft.currency,
        issue_date=row["issue_date"],
        due_date=row["due_date"],
        lines=tuple(lines),
        status=rules.status,
    )
