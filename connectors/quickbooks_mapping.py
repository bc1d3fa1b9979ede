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
than as a VAT number that would never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerLine, LedgerTaxRate
from ledgerlink.model import Invoice, InvoiceStatus, Party
from ledgerlink.money import to_decimal

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


def parse_time(text: Any) -> datetime | None:
    """QBO's `2026-11-02T03:04:05-08:00` → timezone-aware UTC datetime (None when absent)."""
    if not text:
        return None
    parsed = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def updated_at(entity: Mapping[str, Any]) -> datetime | None:
    return parse_time((entity.get("MetaData") or {}).get("LastUpdatedTime"))


def parse_day(text: Any) -> date | None:
    return date.fromisoformat(str(text)[:10]) if text else None


def money(value: Any, what: str) -> Decimal:
    return to_decimal(value if value is not None else 0, what)


def ref(value: Any) -> str | None:
    return str(value["value"]) if isinstance(value, dict) and value.get("value") not in (None, "") else None


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
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    if not details:
        return None
    percent = Decimal(0)
    for detail in details:
        rate = rates.get(ref(detail.get("TaxRateRef")) or "")
        if rate is None:
            raise ValueError(f"tax code {code.get('Name')!r} names a tax rate QuickBooks did not list")
        percent += money(rate.get("RateValue"), "RateValue")
    return LedgerTaxRate(code=str(code["Id"]), name=str(code.get("Name") or code["Id"]),
                         rate=percent / Decimal(100), active=bool(code.get("Active", True)))


def ledger_contact(customer: Mapping[str, Any]) -> LedgerContact:
    tax_id = customer.get("PrimaryTaxIdentifier")
    masked = bool(tax_id and _MASKED.match(str(tax_id)))
    return LedgerContact(id=str(customer["Id"]), name=customer.get("DisplayName"),
                         tax_number=None if masked else tax_id,  # masked: unknown, not a number to match on
                         email=(customer.get("PrimaryEmailAddr") or {}).get("Address"),
                         crm_id=customer.get("AcctNum") or None,
                         active=bool(customer.get("Active", True)), updated_at=updated_at(customer),
                         hidden=frozenset({"tax_number"}) if masked else frozenset())


def is_voided(invoice: Mapping[str, Any]) -> bool:
    if invoice.get("status") == "Voided":
        return True
    return (str(invoice.get("PrivateNote") or "").startswith("Voided")
            and money(invoice.get("TotalAmt"), "TotalAmt") == 0)


def linked_payment_ids(invoices: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(link["TxnId"]) for invoice in invoices for link in invoice.get("LinkedTxn") or []
                   if link.get("TxnType") == "Payment" and link.get("TxnId")}, key=_id_order)


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
        lines = payment.get("Line") or []
        to_invoices = to_this = credits = Decimal(0)
        for line in lines:
            for link in line.get("LinkedTxn") or []:
                amount = money(line.get("Amount"), "Amount")
                if link.get("TxnType") == "Invoice":
                    to_invoices += amount
                    to_this += amount if str(link.get("TxnId")) == invoice_id else 0
                elif link.get("TxnType") == "CreditMemo":
                    credits += amount
        if to_this and to_invoices:
            credited += (to_this * min(credits, to_invoices) / to_invoices).quantize(CENT, ROUND_HALF_UP)
        day = parse_day(payment.get("TxnDate"))
        if to_this and day and (latest is None or day > latest):
            latest = day
    return credited, latest


def ledger_invoice(raw: Mapping[str, Any], payments: Mapping[str, Mapping[str, Any]],
                   home_currency: str) -> LedgerInvoice:
    invoice_id = str(raw["Id"])
    total = money(raw.get("TotalAmt"), "TotalAmt")
    tax = money((raw.get("TxnTaxDetail") or {}).get("TotalTax"), "TotalTax")
    balance = money(raw.get("Balance"), "Balance")
    links = [str(link["TxnId"]) for link in raw.get("LinkedTxn") or [] if link.get("TxnType") == "Payment"]
    credited, latest = _settlement(invoice_id, links, payments)
    if is_voided(raw):
        status = InvoiceStatus.VOIDED
    elif balance == 0 and total > 0:
        status = InvoiceStatus.PAID
    else:
        status = InvoiceStatus.AUTHORISED
    lines = tuple(LedgerLine(tax_code=ref((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef")),
                             net=money(line.get("Amount"), "Amount"))
                  for line in raw.get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail")
    return LedgerInvoice(
        id=invoice_id, number=raw.get("DocNumber"), reference=raw.get("DocNumber"),
        contact_id=ref(raw.get("CustomerRef")), status=status,
        currency=ref(raw.get("CurrencyRef")) or home_currency, subtotal=total - tax, total_tax=tax,
        total=total, amount_paid=max(total - balance - credited, Decimal("0.00")), amount_due=balance,
        amount_credited=credited, issue_date=parse_day(raw.get("TxnDate")),
        due_date=parse_day(raw.get("DueDate")),
        fully_paid_on=latest if status is InvoiceStatus.PAID else None,
        updated_at=updated_at(raw), lines=lines)


def deleted_invoice(tombstone: Mapping[str, Any], home_currency: str) -> LedgerInvoice:
    """A CDC tombstone (`status: Deleted`): QBO says only which invoice and when."""
    zero = Decimal("0.00")
    return LedgerInvoice(id=str(tombstone["Id"]), number=None, reference=None, contact_id=None,
                         status=InvoiceStatus.DELETED, currency=home_currency, subtotal=zero,
                         total_tax=zero, total=zero, amount_paid=zero, amount_due=zero,
                         updated_at=updated_at(tombstone))


def payment_change(payment: Mapping[str, Any]) -> LedgerChange:
    """A payment and the invoices its lines link (a deleted payment names none: QBO keeps no lines;
    the invoices it touched change too and show up as changed invoices)."""
    invoices = [str(link["TxnId"]) for line in payment.get("Line") or []
                for link in line.get("LinkedTxn") or [] if link.get("TxnType") == "Invoice"]
    return LedgerChange(id=str(payment["Id"]), invoice_ids=tuple(dict.fromkeys(invoices)),
                        updated_at=updated_at(payment))
