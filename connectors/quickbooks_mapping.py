"""Translation between ledgerlink's canonical records and QuickBooks Online entities.

Outbound: a `Party` becomes a Customer (DisplayName, e-mail, phone, billing address, currency,
terms, `PrimaryTaxIdentifier` — QBO's "Tax Reg. No." — and the CRM id in `AcctNum`); an `Invoice`
becomes a tax-exclusive QBO Invoice whose `DocNumber` is the deterministic reference. Inbound:
QBO's entities become `ledgerlink.ledger` records, so no handoff ever sees a QBO field name.

QBO tells less than Xero about an invoice, so some canonical fields are derived, as stated here:
VOIDED is "PrivateNote starts with 'Voided' and TotalAmt is 0" (how QBO marks a void; a
`status: Voided` is honoured too), DELETED comes only from CDC tombstones, PAID is "Balance 0 and
TotalAmt > 0". Payments and credits both reach an invoice through Payments (QBO applies a credit
memo with a Payment linking both), so the credited part of what a payment applied to an invoice is
its share of the payment's CreditMemo lines; the rest was paid. QBO masks `PrimaryTaxIdentifier`
in answers (only the last five characters show), so a masked value is reported as unknown rather
than as a VAT number that would never match. Inbound fields are read through
`connectors.vendor_fields`: a malformed entity raises a ValueError naming the entity and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.vendor_fields import VendorRecordError, amount, day, label, nested, record, records, required_text, text
from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerLine, LedgerTaxRate
from ledgerlink.model import Invoice, InvoiceStatus, Party
from ledgerlink.money import shown

MAX_DOC_NUMBER = 21
CENT = Decimal("0.01")
_MASKED = re.compile(r"^[Xx*]+\w{0,5}$")


# ---- small parsers -----------------------------------------------------------------------------
def query_literal(value: str) -> str:
    """A single-quoted literal for the QBO query language (backslash and quote escaped)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def query_time(moment: datetime) -> str:
    """A timezone-aware moment as QBO compares it: ISO-8601, whole seconds, with its offset."""
    if moment.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def parse_time(text: Any, what: str = "QuickBooks time") -> datetime | None:
    """QBO's `2026-11-02T03:04:05-08:00` → timezone-aware UTC datetime (None when absent)."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise VendorRecordError(f"{what} is not a date and time (got {shown(text)})") from None


def updated_at(entity: Mapping[str, Any]) -> datetime | None:
    what = label("QuickBooks entity", entity, "Id")
    meta = nested(record(entity, what), "MetaData", what)
    return parse_time(meta.get("LastUpdatedTime"), f"{what}: MetaData.LastUpdatedTime")


def parse_day(text: Any) -> date | None:
    return day({"date": text}, "date", "QuickBooks date") if text else None


def money(value: Any, what: str) -> Decimal:
    return amount({what: value}, what, "QuickBooks")


def ref(value: Any, what: str = "QuickBooks reference") -> str | None:
    """The id a QBO reference (`{"value": "42", "name": ...}`) points to; None when it names none."""
    if not isinstance(value, dict) or value.get("value") in (None, ""):
        return None
    return text(value, "value", what)


# ---- outbound ----------------------------------------------------------------------------------
def customer_fields(party: Party, term_id: str | None) -> dict[str, Any]:
    """The Customer fields ledgerlink owns (sent in full on create, sparse on update)."""
    if not party.crm_id:
        raise ValueError(f"party {party.name!r} has no crm_id; QuickBooks AcctNum needs it")
    if not party.name or ":" in party.name:
        raise ValueError(f"QuickBooks DisplayName cannot be empty or contain ':' ({party.name!r})")
    fields: dict[str, Any] = {"DisplayName": party.name, "CompanyName": party.name,
                              "AcctNum": party.crm_id}
    if party.email:
        fields["PrimaryEmailAddr"] = {"Address": party.email}
    if party.phone:
        fields["PrimaryPhone"] = {"FreeFormNumber": party.phone}
    if party.vat_number:
        fields["PrimaryTaxIdentifier"] = party.vat_number
    if party.address:
        address = {"Line1": party.address.line1, "City": party.address.city,
                   "PostalCode": party.address.postal_code, "Country": party.address.country}
        fields["BillAddr"] = {k: v for k, v in address.items() if v}
    if term_id:
        fields["SalesTermRef"] = {"value": term_id}
    return fields


def customer_payload(party: Party, term_id: str | None) -> dict[str, Any]:
    payload = customer_fields(party, term_id)
    if party.currency:
        payload["CurrencyRef"] = {"value": party.currency}
    return payload


def customer_update(party: Party, current: Mapping[str, Any], term_id: str | None) -> dict[str, Any]:
    """A sparse update on the version read (`SyncToken`): only owned fields, never a blind overwrite."""
    currency = ref(current.get("CurrencyRef"))
    if party.currency and currency and party.currency != currency:
        raise ValueError(f"QuickBooks never changes a customer's currency (it is {currency}, "
                         f"the CRM says {party.currency})")
    return {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True,
            **customer_fields(party, term_id)}


def invoice_payload(invoice: Invoice, sales_item_id: str) -> dict[str, Any]:
    """Canonical Invoice → QBO Invoice, tax exclusive, one SalesItemLineDetail line per line."""
    if not invoice.customer.accounting_id:
        raise ValueError(f"invoice {invoice.reference!r}: customer has no QuickBooks Customer Id yet")
    if invoice.status is not InvoiceStatus.AUTHORISED:
        raise ValueError(f"invoice {invoice.reference!r}: QuickBooks has no {invoice.status.value} "
                         "invoices; only authorised ones can be created")
    if not invoice.reference or len(invoice.reference) > MAX_DOC_NUMBER:
        raise ValueError(f"invoice reference {invoice.reference!r} does not fit QuickBooks "
                         f"DocNumber (1 to {MAX_DOC_NUMBER} characters)")
    if not invoice.lines:
        raise ValueError(f"invoice {invoice.reference!r} has no lines")
    lines = []
    for line in invoice.lines:
        if line.unit_price.currency != invoice.currency:
            raise ValueError(f"invoice {invoice.reference!r}: line in {line.unit_price.currency}")
        detail: dict[str, Any] = {"ItemRef": {"value": sales_item_id}, "Qty": line.quantity,
                                  "UnitPrice": line.unit_price.amount,
                                  "TaxCodeRef": {"value": line.tax_type}}
        if line.discount_percent:
            detail["DiscountRate"] = line.discount_percent
        lines.append({"DetailType": "SalesItemLineDetail", "Amount": line.net_amount.amount,
                      "Description": line.description, "SalesItemLineDetail": detail})
    return {"DocNumber": invoice.reference, "CustomerRef": {"value": invoice.customer.accounting_id},
            "CurrencyRef": {"value": invoice.currency}, "TxnDate": invoice.issue_date.isoformat(),
            "DueDate": invoice.due_date.isoformat(), "GlobalTaxCalculation": "TaxExcluded",
            "Line": lines}


# ---- inbound -----------------------------------------------------------------------------------
def ledger_tax_rate(code: Mapping[str, Any], rates: Mapping[str, Mapping[str, Any]]) -> LedgerTaxRate | None:
    """A TaxCode with a sales rate list → LedgerTaxRate (rate = Σ its sales RateValues / 100);
    purchase-only codes are not sales tax codes (None)."""
    what = label("QuickBooks tax code", code, "Name", "Id")
    code = record(code, what)
    details = records(nested(code, "SalesTaxRateList", what), "TaxRateDetail", what)
    if not details:
        return None
    percent = Decimal(0)
    for detail in details:
        rate = rates.get(ref(detail.get("TaxRateRef"), f"{what}: TaxRateRef") or "")
        if rate is None:
            raise VendorRecordError(f"{what} names a tax rate QuickBooks did not list")
        percent += amount(record(rate, f"{what}: tax rate"), "RateValue", f"{what}: tax rate")
    code_id = required_text(code, "Id", what)
    return LedgerTaxRate(code=code_id, name=text(code, "Name", what) or code_id,
                         rate=percent / Decimal(100), active=bool(code.get("Active", True)))


def ledger_contact(customer: Mapping[str, Any]) -> LedgerContact:
    what = label("QuickBooks customer", customer, "DisplayName", "Id")
    customer = record(customer, what)
    tax_id = text(customer, "PrimaryTaxIdentifier", what)
    masked = bool(tax_id and _MASKED.match(tax_id))
    return LedgerContact(id=required_text(customer, "Id", what), name=text(customer, "DisplayName", what),
                         tax_number=None if masked else tax_id,  # masked by QBO: unknown, not a number to match on
                         email=text(nested(customer, "PrimaryEmailAddr", what), "Address", f"{what}: PrimaryEmailAddr"),
                         crm_id=text(customer, "AcctNum", what) or None,
                         active=bool(customer.get("Active", True)), updated_at=updated_at(customer),
                         hidden=frozenset({"tax_number"}) if masked else frozenset())


def is_voided(invoice: Mapping[str, Any]) -> bool:
    what = label("QuickBooks invoice", invoice, "DocNumber", "Id")
    invoice = record(invoice, what)
    if invoice.get("status") == "Voided":
        return True
    return (str(invoice.get("PrivateNote") or "").startswith("Voided")
            and amount(invoice, "TotalAmt", what) == 0)


def _links(entity: Mapping[str, Any], txn_type: str, what: str) -> list[str]:
    """Ids of the transactions of one type an entity (or one of its lines) links to."""
    return [required_text(link, "TxnId", f"{what}: LinkedTxn") for link in records(entity, "LinkedTxn", what)
            if link.get("TxnType") == txn_type and link.get("TxnId") not in (None, "")]


def linked_payment_ids(invoices: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({payment for invoice in invoices
                   for payment in _links(record(invoice, "QuickBooks invoice"), "Payment",
                                         label("QuickBooks invoice", invoice, "DocNumber", "Id"))}, key=_id_order)


def _id_order(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


def _settlement(invoice_id: str, links: list[str], payments: Mapping[str, Mapping[str, Any]]
                ) -> tuple[Decimal, date | None]:
    """(credited, latest payment date) for an invoice, from the payments that link it."""
    credited, latest = Decimal("0.00"), None
    for payment_id in links:
        payment = payments.get(payment_id)
        if payment is None:
            continue
        what = label("QuickBooks payment", payment, "Id")
        payment = record(payment, what)
        to_invoices = to_this = credits = Decimal(0)
        for line in records(payment, "Line", what):
            for link in records(line, "LinkedTxn", f"{what}: line"):
                line_amount = amount(line, "Amount", f"{what}: line")
                if link.get("TxnType") == "Invoice":
                    to_invoices += line_amount
                    to_this += line_amount if str(link.get("TxnId")) == invoice_id else 0
                elif link.get("TxnType") == "CreditMemo":
                    credits += line_amount
        if to_this and to_invoices:
            credited += (to_this * min(credits, to_invoices) / to_invoices).quantize(CENT, ROUND_HALF_UP)
        paid_on = day(payment, "TxnDate", what)
        if to_this and paid_on and (latest is None or paid_on > latest):
            latest = paid_on
    return credited, latest


def ledger_invoice(raw: Mapping[str, Any], payments: Mapping[str, Mapping[str, Any]],
                   home_currency: str) -> LedgerInvoice:
    what = label("QuickBooks invoice", raw, "DocNumber", "Id")
    raw = record(raw, what)
    invoice_id = required_text(raw, "Id", what)
    total = amount(raw, "TotalAmt", what)
    tax = amount(nested(raw, "TxnTaxDetail", what), "TotalTax", f"{what}: TxnTaxDetail")
    balance = amount(raw, "Balance", what)
    credited, latest = _settlement(invoice_id, _links(raw, "Payment", what), payments)
    if is_voided(raw):
        status = InvoiceStatus.VOIDED
    elif balance == 0 and total > 0:
        status = InvoiceStatus.PAID
    else:
        status = InvoiceStatus.AUTHORISED
    lines = tuple(LedgerLine(tax_code=ref(nested(line, "SalesItemLineDetail", f"{what}: line").get("TaxCodeRef"),
                                          f"{what}: line: TaxCodeRef"),
                             net=amount(line, "Amount", f"{what}: line"))
                  for line in records(raw, "Line", what) if line.get("DetailType") == "SalesItemLineDetail")
    return LedgerInvoice(
        id=invoice_id, number=text(raw, "DocNumber", what), reference=text(raw, "DocNumber", what),
        contact_id=ref(raw.get("CustomerRef"), f"{what}: CustomerRef"), status=status,
        currency=ref(raw.get("CurrencyRef"), f"{what}: CurrencyRef") or home_currency, subtotal=total - tax, total_tax=tax,
        total=total, amount_paid=max(total - balance - credited, Decimal("0.00")), amount_due=balance,
        amount_credited=credited, issue_date=day(raw, "TxnDate", what),
        due_date=day(raw, "DueDate", what),
        fully_paid_on=latest if status is InvoiceStatus.PAID else None,
        updated_at=updated_at(raw), lines=lines)


def deleted_invoice(tombstone: Mapping[str, Any], home_currency: str) -> LedgerInvoice:
    """A CDC tombstone (`status: Deleted`): QBO says only which invoice and when."""
    zero = Decimal("0.00")
    what = label("QuickBooks deleted invoice", tombstone, "Id")
    return LedgerInvoice(id=required_text(record(tombstone, what), "Id", what), number=None, reference=None,
                         contact_id=None,
                         status=InvoiceStatus.DELETED, currency=home_currency, subtotal=zero,
                         total_tax=zero, total=zero, amount_paid=zero, amount_due=zero,
                         updated_at=updated_at(tombstone))


def payment_change(payment: Mapping[str, Any]) -> LedgerChange:
    """A payment and the invoices its lines link (a deleted payment names none: QBO keeps no lines;
    the invoices it touched change too and show up as changed invoices)."""
    what = label("QuickBooks payment", payment, "Id")
    payment = record(payment, what)
    invoices = [invoice for line in records(payment, "Line", what) for invoice in _links(line, "Invoice", what)]
    return LedgerChange(id=required_text(payment, "Id", what), invoice_ids=tuple(dict.fromkeys(invoices)),
                        updated_at=updated_at(payment))
