"""What ledgerlink reads back from an accounting system, in one shape for every vendor.

Xero, QuickBooks Online and the rest each describe invoices, contacts, payments and tax codes in
their own words; each accounting connector translates its vendor's records into these types, so
the handoffs, the reconciliation and the transforms never see a vendor's field names. Amounts are
exact `Decimal`s in the record's own `currency` (never float); dates are calendar dates; change
times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledgerlink.model import InvoiceStatus

LIVE_STATUSES = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED, InvoiceStatus.AUTHORISED,
                           InvoiceStatus.PAID})


@dataclass(frozen=True, slots=True)
class LedgerTaxRate:
    """A sales tax code the organisation can use today.

    `code` is what an invoice line must carry (Xero `TaxType` such as OUTPUT3; QuickBooks the
    TaxCode's Id); `name` is what a person reads and what a spec may name it by.
    """

    code: str
    name: str
    rate: Decimal  # a fraction: Decimal("0.15") for 15 %
    active: bool = True


@dataclass(frozen=True, slots=True)
class LedgerContact:
    """An accounting customer, as the matcher and the edit-conflict check need it."""

    id: str
    name: str | None
    tax_number: str | None
    email: str | None
    crm_id: str | None  # the CRM id the contact carries (Xero ContactNumber, QuickBooks AcctNum)
    active: bool = True
    updated_at: datetime | None = None
    hidden: frozenset[str] = frozenset()  # fields the vendor does not disclose (QuickBooks masks tax_number)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    tax_code: str | None
    net: Decimal  # the line's amount before tax


@dataclass(frozen=True, slots=True)
class LedgerInvoice:
    """A sales invoice and everything it says about being paid.

    `amount_due` is net of payments and credits; `amount_paid` excludes credits. `reference` is
    the deterministic key ledgerlink wrote (`DEAL-<id>`), `number` what the customer sees.
    """

    id: str
    number: str | None
    reference: str | None
    contact_id: str | None
    status: InvoiceStatus
    currency: str
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    amount_credited: Decimal = Decimal(0)
    issue_date: date | None = None
    due_date: date | None = None
    fully_paid_on: date | None = None
    updated_at: datetime | None = None
    lines: tuple[LedgerLine, ...] = ()

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """A payment or credit note that changed: which invoices it touched (their status may move)."""

    id: str
    invoice_ids: tuple[str, ...]
    updated_at: datetime | None = None


def active_tax_codes(rates: list[LedgerTaxRate]) -> dict[str, LedgerTaxRate]:
    """The active rates by code and by name: a spec may name a tax code either way (Xero's codes
    are words like OUTPUT3; QuickBooks' are numeric ids a person knows by their names)."""
    active: dict[str, LedgerTaxRate] = {}
    for rate in rates:
        if rate.active and rate.code:
            active[rate.code] = rate
            active.setdefault(rate.name, rate)
    return active
