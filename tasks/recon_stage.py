"""Reconciliation staging: both sides streamed page by page into a scratch SQLite file, so the
comparison is SQL over compact rows and memory stays bounded by one page, whatever the ledger's size.

Money is staged as integer minor units (cents), never floats. Each invoice also carries what the
payment handoff *would* write to its deal today (its spec's transform and derive rules), so a
status check compares like with like, and what its tax *should* be at the tenant's active rates.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

from ledgerlink.mapping import read_fields
from ledgerlink.money import MoneyError, to_decimal, to_minor_units
from ledgerlink.timestamps import parse_timestamp
from ledgerlink.transforms import TransformError, get_transform
from tasks.extract import flatten
from tasks.linked_update import derive, rendered_properties

SCHEMA = """
CREATE TABLE deal (id TEXT PRIMARY KEY, won INTEGER, amount_cents INTEGER, currency TEXT, closed TEXT,
                   crm_values TEXT, unreadable TEXT);
CREATE TABLE invoice (id TEXT PRIMARY KEY, number TEXT, reference TEXT, contact_id TEXT, currency TEXT,
                      subtotal_cents INTEGER, tax_cents INTEGER, expected_tax_cents INTEGER, odd_tax_types TEXT,
                      status TEXT, due_cents INTEGER, issued TEXT, expected_values TEXT, live INTEGER);
CREATE TABLE link (crm_id TEXT PRIMARY KEY, accounting_id TEXT, number TEXT);
CREATE TABLE customer_link (crm_id TEXT PRIMARY KEY, accounting_id TEXT);
CREATE TABLE contact (id TEXT PRIMARY KEY, name TEXT, name_key TEXT, vat_key TEXT);
CREATE TABLE deal_company (deal_id TEXT PRIMARY KEY, company_id TEXT);
CREATE TABLE waiting (record_id TEXT PRIMARY KEY, reason TEXT, owner TEXT);
CREATE TABLE finding (seq INTEGER PRIMARY KEY, cls TEXT, severity TEXT, record_type TEXT, crm_id TEXT,
                      accounting_id TEXT, invoice_number TEXT, detail TEXT, action TEXT, fixed INTEGER DEFAULT 0);
CREATE INDEX ix_invoice_reference ON invoice(reference);
CREATE INDEX ix_invoice_contact ON invoice(contact_id);
CREATE INDEX ix_link_accounting ON link(accounting_id);
CREATE INDEX ix_finding_cls ON finding(cls);
"""
LIVE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID")


def open_scratch(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(SCHEMA)
    return db


def cents(value, currency: str | None) -> int | None:
    return None if value in (None, "") else to_minor_units(to_decimal(value, "amount"), currency)


def stage_deals(db: sqlite3.Connection, page: list[dict], mapping, won_stages: set[str],
                crm_properties: list[str]) -> None:
    """One page of CRM deals: won or not, amount, currency, close date, what the CRM shows of its invoice."""
    rows = []
    for deal in page:
        flat = flatten(deal)
        fields = read_fields({"deal": flat}, mapping.deal)
        unreadable = None
        try:
            amount = cents(fields.get("amount"), fields.get("currency"))
        except (MoneyError, ValueError) as err:
            amount, unreadable = None, str(err)
        closed = parse_timestamp(fields.get("close_date")) if fields.get("close_date") else None
        rows.append((flat["id"], int(str(fields.get("stage")) in won_stages), amount, fields.get("currency"),
                     closed.isoformat() if closed else None,
                     json.dumps({p: flat.get(p) or "" for p in crm_properties}, sort_keys=True), unreadable))
    db.executemany("INSERT OR REPLACE INTO deal VALUES (?,?,?,?,?,?,?)", rows)


def stage_invoices(db: sqlite3.Connection, page: list[dict], tax_rates: dict[str, Decimal], expected_tax_types: set[str],
                   payment_spec, tz) -> None:
    """One page of accounting invoices (sales only), with the tax and payment values they imply."""
    transform = get_transform(payment_spec.transform)
    rows = []
    for invoice in page:
        if invoice.get("Type", "ACCREC") != "ACCREC":
            continue
        currency = invoice.get("CurrencyCode")
        expected_tax, odd = 0, set()
        for line in invoice.get("LineItems") or []:
            tax_type = line.get("TaxType")
            if tax_type not in expected_tax_types or tax_type not in tax_rates:
                odd.add(str(tax_type))
            rate = tax_rates.get(tax_type, Decimal(0))
            expected_tax += cents(to_decimal(line.get("LineAmount") or 0, "LineAmount") * rate, currency) or 0
        try:
            expected = json.dumps(rendered_properties(payment_spec, derive(payment_spec, transform(invoice, tz))),
                                  sort_keys=True)
        except (TransformError, KeyError, ValueError, ArithmeticError):
            expected = None
        issued = parse_timestamp(invoice.get("DateString") or invoice.get("Date"))
        rows.append((invoice["InvoiceID"], invoice.get("InvoiceNumber"), invoice.get("Reference"),
                     (invoice.get("Contact") or {}).get("ContactID"), currency,
                     cents(invoice.get("SubTotal"), currency), cents(invoice.get("TotalTax"), currency), expected_tax,
                     ",".join(sorted(odd)) or None, invoice.get("Status"), cents(invoice.get("AmountDue"), currency),
                     issued.date().isoformat() if issued else None, expected,
                     int(invoice.get("Status") in LIVE_STATUSES)))
    db.executemany("INSERT OR REPLACE INTO invoice VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def stage_contacts(db: sqlite3.Connection, page: list[dict]) -> None:
    from ledgerlink.matching import normalise_name, normalise_vat

    db.executemany("INSERT OR REPLACE INTO contact VALUES (?,?,?,?)", [
        (c["ContactID"], c.get("Name"), normalise_name(c.get("Name")) or None, normalise_vat(c.get("TaxNumber")) or None)
        for c in page if c.get("ContactStatus", "ACTIVE") == "ACTIVE"])


def stage_waiting(db: sqlite3.Connection, items) -> None:
    """Open exception items of the invoice handoff, so a missing invoice names why it is missing."""
    db.executemany("INSERT OR REPLACE INTO waiting VALUES (?,?,?)",
                   [(item.record_id, item.reason_code, item.owner) for item in items])


def stage_links(db: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    columns = "?,?,?" if table == "link" else "?,?"
    db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({columns})", rows)
