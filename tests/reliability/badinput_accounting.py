"""Raw Xero and QuickBooks records as their APIs send them (JSON numbers already Decimal, as the
connectors parse them), good ones and hostile ones, and the canonical shape every translation
must have.

A translator case wraps one translator with a strategy for records it must read. Hostile records
are good ones with up to four fields — or whole sub-records, or the record itself — replaced by
anything; the path of each change is kept, so a refusal can be checked to name what was changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from hypothesis import strategies as st

from badinput_values import hostile_value
from connectors import quickbooks_mapping as qbo
from connectors import xero_records as xero
from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerLine, LedgerTaxRate
from ledgerlink.model import InvoiceStatus
from ledgerlink.money import MAX_AMOUNT

_DELETE = object()
amounts = st.decimals(Decimal("-5000"), Decimal("250000"), places=2)
moments = st.datetimes(datetime(2000, 1, 1), datetime(2090, 1, 1), timezones=st.just(timezone.utc))
ids = st.from_regex(r"[0-9a-f]{8}-[0-9a-f]{4}", fullmatch=True)


def _xero_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp()) * 1000}+0000)/"


@st.composite
def xero_invoices(draw) -> dict:
    issued, updated = draw(moments), draw(moments)
    total = draw(amounts)
    return {"InvoiceID": draw(ids), "InvoiceNumber": f"INV-{draw(st.integers(1, 99999)):05d}",
            "Reference": draw(st.sampled_from(["DEAL-101", "", None])), "Type": "ACCREC",
            "Contact": {"ContactID": draw(ids), "Name": "Karoo Outdoor"},
            "Status": draw(st.sampled_from(["AUTHORISED", "PAID", "VOIDED", "DRAFT", "SUBMITTED", "DELETED"])),
            "CurrencyCode": draw(st.sampled_from(["ZAR", "USD"])), "SubTotal": total, "TotalTax": draw(amounts),
            "Total": total, "AmountPaid": draw(amounts), "AmountDue": draw(amounts), "AmountCredited": draw(amounts),
            "DateString": issued.strftime("%Y-%m-%dT00:00:00"), "Date": _xero_date(issued),
            "DueDateString": issued.strftime("%Y-%m-%dT00:00:00"), "DueDate": _xero_date(issued),
            "FullyPaidOnDate": draw(st.sampled_from([None, _xero_date(issued)])),
            "UpdatedDateUTC": _xero_date(updated),
            "LineItems": [{"TaxType": draw(st.sampled_from(["OUTPUT3", "ZERORATEDOUTPUT"])), "LineAmount": draw(amounts)}
                          for _ in range(draw(st.integers(0, 3)))]}


@st.composite
def xero_contacts(draw) -> dict:
    return {"ContactID": draw(ids), "Name": "Karoo Outdoor", "TaxNumber": "4123456789",
            "EmailAddress": "accounts@karoo.example.co.za", "ContactNumber": draw(st.sampled_from(["101", "", None])),
            "ContactStatus": draw(st.sampled_from(["ACTIVE", "ARCHIVED"])), "UpdatedDateUTC": _xero_date(draw(moments))}


@st.composite
def xero_tax_rates(draw) -> dict:
    return {"TaxType": "OUTPUT3", "Name": "Standard Rate Sales", "Status": "ACTIVE",
            "EffectiveRate": draw(st.sampled_from([Decimal("15.0000"), 15, Decimal(0)]))}


@st.composite
def xero_payments(draw) -> dict:
    return {"PaymentID": draw(ids), "Invoice": {"InvoiceID": draw(ids)}, "UpdatedDateUTC": _xero_date(draw(moments))}


@st.composite
def xero_credit_notes(draw) -> dict:
    return {"CreditNoteID": draw(ids), "CreditNoteNumber": "CN-0001", "UpdatedDateUTC": _xero_date(draw(moments)),
            "Allocations": [{"Amount": draw(amounts), "Invoice": {"InvoiceID": draw(ids)}}]}


def _qbo_meta(moment: datetime) -> dict:
    return {"CreateTime": moment.isoformat(), "LastUpdatedTime": moment.astimezone().isoformat()}


@st.composite
def qbo_invoices(draw) -> dict:
    """{'invoice': a QBO Invoice, 'payments': the Payments it links, by Id} — what `ledger_invoice` reads."""
    issued = draw(moments)
    total, tax, paid = draw(amounts), draw(amounts), draw(amounts)
    payment = {"Id": "200", "TxnDate": issued.date().isoformat(), "MetaData": _qbo_meta(draw(moments)),
               "Line": [{"Amount": paid, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]}
    invoice = {"Id": "130", "DocNumber": "DEAL-101", "TxnDate": issued.date().isoformat(),
               "DueDate": issued.date().isoformat(), "CustomerRef": {"value": "58", "name": "Karoo"},
               "CurrencyRef": {"value": draw(st.sampled_from(["ZAR", "USD"]))}, "TotalAmt": total,
               "Balance": draw(st.sampled_from([Decimal(0), total])), "TxnTaxDetail": {"TotalTax": tax},
               "PrivateNote": draw(st.sampled_from(["", "Voided"])), "MetaData": _qbo_meta(draw(moments)),
               "LinkedTxn": [{"TxnId": "200", "TxnType": "Payment"}],
               "Line": [{"DetailType": "SalesItemLineDetail", "Amount": draw(amounts),
                         "SalesItemLineDetail": {"TaxCodeRef": {"value": "3"}}},
                        {"DetailType": "SubTotalLineDetail", "Amount": total}]}
    return {"invoice": invoice, "payments": {"200": payment}}


@st.composite
def qbo_customers(draw) -> dict:
    return {"Id": str(draw(st.integers(1, 9999))), "DisplayName": "Karoo Outdoor", "AcctNum": "101",
            "PrimaryTaxIdentifier": draw(st.sampled_from(["4123456789", "XXXXXX56789", None])),
            "PrimaryEmailAddr": {"Address": "accounts@karoo.example.co.za"}, "Active": True,
            "MetaData": _qbo_meta(draw(moments))}


@st.composite
def qbo_tax_codes(draw) -> dict:
    """{'code': a TaxCode, 'rates': TaxRates by Id} — what `ledger_tax_rate` reads."""
    return {"code": {"Id": "3", "Name": "Standard rated (15%)", "Active": True,
                     "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "9"}}]}},
            "rates": {"9": {"Id": "9", "RateValue": draw(st.sampled_from([Decimal(15), 15, "15"]))}}}


@st.composite
def qbo_payments(draw) -> dict:
    return {"Id": "200", "MetaData": _qbo_meta(draw(moments)),
            "Line": [{"Amount": draw(amounts), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]}


@dataclass(frozen=True)
class Translator:
    name: str
    good: st.SearchStrategy[dict]
    translate: Callable[[Any], Any]
    produces: type
    wrapped: bool = False  # the good record is {part: vendor record}: the vendor records are changed, not it


TRANSLATORS = (
    Translator("xero invoice_from_xero", xero_invoices(), xero.invoice_from_xero, LedgerInvoice),
    Translator("xero contact_from_xero", xero_contacts(), xero.contact_from_xero, LedgerContact),
    Translator("xero tax_rate_from_xero", xero_tax_rates(), xero.tax_rate_from_xero, LedgerTaxRate),
    Translator("xero payment_change", xero_payments(), xero.payment_change, LedgerChange),
    Translator("xero credit_note_change", xero_credit_notes(), xero.credit_note_change, LedgerChange),
    Translator("quickbooks ledger_invoice", qbo_invoices(),
               lambda case: qbo.ledger_invoice(case["invoice"], case["payments"], "ZAR"), LedgerInvoice, True),
    Translator("quickbooks ledger_contact", qbo_customers(), qbo.ledger_contact, LedgerContact),
    Translator("quickbooks ledger_tax_rate", qbo_tax_codes(),
               lambda case: qbo.ledger_tax_rate(case["code"], case["rates"]), LedgerTaxRate, True),
    Translator("quickbooks payment_change", qbo_payments(), qbo.payment_change, LedgerChange),
    Translator("quickbooks deleted_invoice", qbo_payments(), lambda raw: qbo.deleted_invoice(raw, "ZAR"),
               LedgerInvoice),
)


def paths(value: Any, here: tuple = ()) -> list[tuple]:
    """Every key path into a record (sub-records and lists included), the record itself first."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, here + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, here + (index,))
    return found


@st.composite
def hostile_records(draw, translator: Translator) -> tuple[Any, list[tuple]]:
    """A good record with up to four paths changed to hostile values; returns (record, changed paths)."""
    raw = copy.deepcopy(draw(translator.good))
    changed = []
    places = [path for path in paths(raw) if not translator.wrapped or len(path) >= 2 or path == ("invoice",)]
    for path in draw(st.lists(st.sampled_from(places), min_size=1, max_size=4, unique=True)):
        value = draw(st.one_of(hostile_value(), st.just(_DELETE)))
        if not path:
            return value if value is not _DELETE else None, [()]
        try:
            target = raw
            for step in path[:-1]:
                target = target[step]
            if value is _DELETE and isinstance(target, dict):
                del target[path[-1]]
            else:
                target[path[-1]] = None if value is _DELETE else value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the record this path went through
        changed.append(path)
    return raw, changed


def canonical_problems(value: Any) -> list[str]:
    """Where a translator's output is not of the canonical types `ledgerlink.ledger` declares."""
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    def amount(name: str, number: Any) -> None:
        need(type(number) is Decimal and number.is_finite() and abs(number) < 3 * MAX_AMOUNT, f"{name}={number!r}")

    def optional_text(name: str, text: Any) -> None:
        need(text is None or isinstance(text, str), f"{name}={text!r:.40}")

    def aware(name: str, moment: Any) -> None:
        need(moment is None or (isinstance(moment, datetime) and moment.tzinfo is not None), f"{name}={moment!r}")

    if isinstance(value, LedgerInvoice):
        need(isinstance(value.id, str) and bool(value.id.strip()), "id")
        for name in ("number", "reference", "contact_id"):
            optional_text(name, getattr(value, name))
        need(isinstance(value.status, InvoiceStatus) and isinstance(value.currency, str), "status/currency")
        for name in ("subtotal", "total_tax", "total", "amount_paid", "amount_due", "amount_credited"):
            amount(name, getattr(value, name))
        for name in ("issue_date", "due_date", "fully_paid_on"):
            day = getattr(value, name)
            need(day is None or type(day) is date, f"{name}={day!r}")
        aware("updated_at", value.updated_at)
        for line in value.lines:
            need(isinstance(line, LedgerLine), "line")
            optional_text("line tax_code", line.tax_code)
            amount("line net", line.net)
    elif isinstance(value, LedgerContact):
        need(isinstance(value.id, str) and bool(value.id.strip()), "id")
        for name in ("name", "tax_number", "email", "crm_id"):
            optional_text(name, getattr(value, name))
        aware("updated_at", value.updated_at)
    elif isinstance(value, LedgerTaxRate):
        need(isinstance(value.code, str) and isinstance(value.name, str), "code/name")
        amount("rate", value.rate)
    elif isinstance(value, LedgerChange):
        need(isinstance(value.id, str) and all(isinstance(i, str) and i for i in value.invoice_ids), "ids")
        aware("updated_at", value.updated_at)
    return problems
