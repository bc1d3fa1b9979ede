"""From an extracted CRM record bundle to a canonical invoice, in three pure steps.

1. `draft_from_bundle`: read the spec's field paths; parse numbers and dates (a value that cannot be
   parsed raises MappingError naming the field — it becomes an exception item, never a crash).
2. `gate_row`: the flat row the expectations suite validates (amounts as integer cents, never float).
3. `build_invoice`: only for rows that passed the gate; VAT decided per line from the tenant's rates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.ledger import LedgerTaxRate
from ledgerlink.model import Address, DealStatus, Invoice, InvoiceLine, Party, TaxTreatment
from ledgerlink.money import Money, MoneyError, to_decimal, to_minor_units
from ledgerlink.spec import CrmMapping, InvoiceSettings
from ledgerlink.timestamps import parse_timestamp


class MappingError(ValueError):
    def __init__(self, field_name: str, value: Any, problem: str):
        self.field_name, self.value = field_name, value
        super().__init__(f"{field_name}: {problem} (got {str(value)[:60]!r})")


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
        return to_decimal(value, field_name)
    except MoneyError as err:
        raise MappingError(field_name, value, str(err)) from None


def _timestamp(field_name: str, value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise MappingError(field_name, value, "is not a date") from None


def draft_from_bundle(bundle: dict, mapping: CrmMapping, tz: ZoneInfo) -> DealDraft:
    deal = {key: _lookup(bundle, path) for key, path in mapping.deal.items()}
    stage = deal.get("stage")
    status = mapping.stages.get(str(stage), mapping.default_status) if stage is not None else mapping.default_status
    closed = _timestamp("close_date", deal.get("close_date"))
    customer = None
    if bundle.get("company"):
        customer = {key: _lookup(bundle, path) for key, path in mapping.customer.items()}
    lines = []
    for index, raw_line in enumerate(bundle.get("lines") or [], start=1):
        values = {key: _lookup({"line": raw_line}, path) for key, path in mapping.line.items()}
        lines.append(DraftLine(
            name=values.get("name"),
            quantity=_decimal(f"line {index} quantity", values.get("quantity")),
            unit_price=_decimal(f"line {index} unit price", values.get("unit_price")),
            discount_percent=_decimal(f"line {index} discount", values.get("discount_percent")) or Decimal(0),
            tax_code=None if values.get("tax_code") is None else str(values["tax_code"]),
            sku=values.get("sku"),
        ))
    currency = deal.get("currency")
    return DealDraft(
        deal_id=str(bundle["deal"]["id"]),
        name=deal.get("name"),
        status=status,
        stage=None if stage is None else str(stage),
        amount=_decimal("amount", deal.get("amount")),
        currency=None if currency is None else str(currency).strip().upper(),
        close_date=closed.astimezone(tz).date() if closed else None,
        modified_at=_timestamp("modified_at", deal.get("modified_at")),
        owner_id=deal.get("owner_id"),
        customer=customer,
        lines=lines,
    )


def _cents(amount: Decimal | None, currency: str | None) -> int | None:
    """Integer minor units for the gate (exact; the gate never sees a float amount)."""
    return None if amount is None else to_minor_units(amount, currency)


def payment_terms_days(draft: DealDraft, rules: InvoiceSettings) -> int:
    raw = (draft.customer or {}).get("payment_terms_days")
    try:
        days = int(str(raw).strip()) if raw is not None else rules.default_payment_terms_days
    except ValueError:
        raise MappingError("customer payment terms", raw, "is not a whole number of days") from None
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
    prices = [line.unit_price for line in draft.lines if line.unit_price is not None]
    issue = draft.close_date
    return {
        "deal_id": draft.deal_id,
        "deal_name": draft.name,
        "company_id": None if customer.get("crm_id") is None else str(customer["crm_id"]),
        "customer_name": customer.get("name"),
        "vat_number": None if customer.get("vat_number") is None else str(customer["vat_number"]).replace(" ", ""),
        "currency": draft.currency,
        "amount_cents": _cents(draft.amount, draft.currency),
        "lines_total_cents": sum(_cents(line.net, draft.currency) for line in draft.lines) if draft.lines else None,
        "line_count": len(draft.lines),
        "min_line_quantity": str(min(quantities)) if quantities else None,
        "min_line_unit_cents": _cents(min(prices), draft.currency) if prices else None,
        "unknown_tax_code": unknown,
        "issue_date": issue,
        "due_date": issue + timedelta(days=payment_terms_days(draft, rules)) if issue else None,
    }


def read_fields(bundle: dict, paths: dict[str, str]) -> dict[str, Any]:
    """Canonical field -> value, read from a bundle by the spec's dot paths ('' counts as missing)."""
    return {key: _lookup(bundle, path) for key, path in paths.items()}


def party_from_fields(fields: dict[str, Any]) -> Party:
    """A customer from canonical fields; unreadable payment terms raise MappingError."""
    terms = fields.get("payment_terms_days")
    if terms is not None:
        try:
            terms = int(str(terms).strip())
        except ValueError:
            raise MappingError("payment terms", terms, "is not a whole number of days") from None
    vat = fields.get("vat_number")
    return Party(
        name=str(fields.get("name") or "").strip(),
        crm_id=str(fields["crm_id"]),
        email=fields.get("email"),
        phone=fields.get("phone"),
        vat_number=None if vat is None else str(vat).replace(" ", ""),
        currency=fields.get("currency"),
        payment_terms_days=terms,
        address=Address(fields.get("address_line1"), fields.get("city"), fields.get("postal_code"),
                        fields.get("country")),
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
