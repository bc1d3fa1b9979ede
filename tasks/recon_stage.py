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

from ledgerlink.ledger import LedgerContact, LedgerInvoice
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


def stage_invoices(db: sqlite3.Connection, page: list[LedgerInvoice], tax_rates: dict[str, Decimal],
                   expected_tax_codes: set[str], payment_spec, tz) -> None:
    """One page of canonical sales invoices, with the tax and payment values they imply."""
    transform = get_transform(payment_spec.transform)
    rows = []
    for invoice in page:
        currency = invoice.currency
        expected_tax, odd = 0, set()
        for line in invoice.lines:
            if line.tax_code not in expected_tax_codes or line.tax_code not in tax_rates:
                odd.add(str(line.tax_code))
            expected_tax += cents(line.net * tax_rates.get(line.tax_code, Decimal(0)), currency) or 0
        try:
            expected = json.dumps(rendered_properties(payment_spec, derive(payment_spec, transform(invoice, tz))),
                                  sort_keys=True)
        except (TransformError, KeyError, ValueError, ArithmeticError):
            expected = None
        rows.append((invoice.id, invoice.number, invoice.reference, invoice.contact_id, currency,
                     cents(invoice.subtotal, currency), cents(invoice.total_tax, currency), expected_tax,
                     ",".join(sorted(odd)) or None, invoice.status.value, cents(invoice.amount_due, currency),
                     invoice.issue_date.isoformat() if invoice.issue_date else None, expected, int(invoice.live)))
    db.executemany("INSERT OR REPLACE INTO invoice VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def stage_contacts(db: sqlite3.Connection, page: list[LedgerContact]) -> None:
    from ledgerlink.matching import normalise_name, normalise_vat

    db.executemany("INSERT OR REPLACE INTO contact VALUES (?,?,?,?)", [
        (c.id, c.name, normalise_name(c.name) or None, normalise_vat(c.tax_number) or None)
        for c in page if c.active])


def stage_waiting(db: sqlite3.Connection, items) -> None:
    """Open exception items of the invoice handoff, so a missing invoice names why it is missing."""
    db.executemany("INSERT OR REPLACE INTO waiting VALUES (?,?,?)",
                   [(item.record_id, item.reason_code, item.owner) for item in items])


def stage_links(db: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    columns = "?,?,?" if table == "link" else "?,?"
    db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({columns})", rows)
