"""The canonical model every connector maps to and from.

A CRM deal and an accounting invoice never meet directly: each connector translates its vendor's
shape into these types, so any CRM pairs with any accounting system. Money is always `Money`;
VAT is decided per line, because one South African invoice can mix standard, zero-rated and exempt
supplies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cached_property

from ledgerlink.money import Money


def line_net(quantity: Decimal, unit_price: Money, discount_percent: Decimal) -> Money:
    """Quantity × price less discount, rounded per line — as HubSpot and Xero both compute it."""
    return (unit_price * (quantity * (Decimal(100) - discount_percent) / Decimal(100))).rounded()


class TaxTreatment(str, Enum):
    """How a line is taxed, independent of any vendor's tax code names."""

    STANDARD = "standard"  # 15% VAT in South Africa
    ZERO_RATED = "zero_rated"
    ZERO_RATED_EXPORT = "zero_rated_export"
    EXEMPT = "exempt"


class DealStatus(str, Enum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class InvoiceStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AUTHORISED = "authorised"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"


class PaymentStatus(str, Enum):
    AWAITING_PAYMENT = "awaiting_payment"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A customer as both systems know it; `crm_id` and `accounting_id` are the cross-reference."""

    name: str
    crm_id: str | None = None
    accounting_id: str | None = None
    email: str | None = None
    phone: str | None = None
    vat_number: str | None = None
    currency: str | None = None
    payment_terms_days: int | None = None
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class DealLine:
    name: str
    quantity: Decimal
    unit_price: Money
    discount_percent: Decimal = Decimal(0)
    tax_code: str | None = None  # the CRM's raw tax code, mapped per tenant to a TaxTreatment
    sku: str | None = None

    @property
    def net_amount(self) -> Money:
        return line_net(self.quantity, self.unit_price, self.discount_percent)


@dataclass(frozen=True, slots=True)
class Deal:
    crm_id: str
    name: str | None
    status: DealStatus
    stage: str | None
    amount: Money | None
    close_date: date | None
    modified_at: datetime | None
    customer: Party | None
    lines: tuple[DealLine, ...] = ()
    owner_id: str | None = None


@dataclass(frozen=True)  # no slots: its amounts are worked out once (cached_property)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Money
    discount_percent: Decimal
    tax_treatment: TaxTreatment
    tax_rate: Decimal  # e.g. Decimal("0.15")
    tax_type: str  # the accounting system's own code for this tenant, e.g. Xero "OUTPUT3"
    account_code: str | None = None
    sku: str | None = None

    @cached_property
    def net_amount(self) -> Money:
        return line_net(self.quantity, self.unit_price, self.discount_percent)

    @cached_property
    def tax_amount(self) -> Money:
        return (self.net_amount * self.tax_rate).rounded()


@dataclass(frozen=True)  # no slots: its totals are worked out once (cached_property)
class Invoice:
    """An invoice to create in the accounting system for one won deal.

    `reference` is deterministic per deal so an invoice can always be found again after a crash
    or an uncertain write — a search-before-create, never a blind re-send.
    """

    deal_id: str
    reference: str
    customer: Party
    currency: str
    issue_date: date
    due_date: date
    lines: tuple[InvoiceLine, ...]
    status: InvoiceStatus = InvoiceStatus.AUTHORISED
    accounting_id: str | None = None
    number: str | None = None

    @cached_property
    def subtotal(self) -> Money:
        return sum((line.net_amount for line in self.lines), Money.zero(self.currency))

    @cached_property
    def total_tax(self) -> Money:
        return sum((line.tax_amount for line in self.lines), Money.zero(self.currency))

    @cached_property
    def total(self) -> Money:
        return self.subtotal + self.total_tax


@dataclass(frozen=True, slots=True)
class Payment:
    accounting_id: str
    invoice_accounting_id: str
    amount: Money
    paid_on: date
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One item's outcome of a batched write: vendors answer per item, so must we."""

    key: str  # our key for the item (e.g. the deal id or the reference)
    ok: bool
    target_id: str | None = None
    number: str | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
