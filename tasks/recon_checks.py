"""Reconciliation checks: SQL over the staged rows (tasks.recon_stage), each writing its findings to
the `finding` table, so any ledger size is compared in bounded memory.

Records are matched through the record links first, then by deterministic reference (the won-deal
spec's `DEAL-{deal_id}`), then by amount + customer + close/issue date within a window. Classes:

    won_deal_without_invoice   a won deal (past the grace period) with no invoice by any match
    link_missing               a live invoice carries a won deal's reference but no link joins them
    probable_match_unlinked    an unlinked deal and invoice agree on customer, currency, amount, date
    invoice_without_deal       a live sales invoice that no deal explains
    amount_mismatch / currency_mismatch / tax_mismatch   a linked pair disagrees
    status_mismatch            the deal's payment fields are not what the invoice says today
    customer_balance_mismatch  a customer's AR differs from what its CRM deals show as due (any deal)
    broken_link                a link to an invoice or deal that no longer exists, or a deal no longer won
    duplicate_invoice          several live invoices share one deal's reference
    duplicate_customer         several active accounting contacts share a VAT number or a name
    stuck_exception / stuck_approval   waiting longer than the spec allows
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from ledgerlink.money import Money, MoneyError, to_minor_units
from ledgerlink.recon_spec import ReconciliationSpec
from ledgerlink.timestamps import as_utc

LINKED = "FROM link l JOIN deal d ON d.id = l.crm_id JOIN invoice i ON i.id = l.accounting_id"


def register_functions(db: sqlite3.Connection) -> None:
    """Money is formatted and payment values compared in Python (Decimal), never as SQL floats."""
    db.create_function("money", 2, _money, deterministic=True)
    db.create_function("same_values", 2, _same_values, deterministic=True)
    db.create_function("to_cents", 1, _to_cents, deterministic=True)


def _money(minor, currency) -> str:
    if minor is None or not currency:
        return "?"
    try:
        return str(Money.from_minor(int(minor), currency))
    except MoneyError:  # a currency we do not know (itself worth reporting): shown as given
        return f"{currency} {Decimal(int(minor)).scaleb(-2):,.2f}"


def _number(text):
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def _same_values(expected_json: str | None, crm_json: str | None) -> int:
    if expected_json is None or crm_json is None:
        return 1
    expected, shown = json.loads(expected_json), json.loads(crm_json)
    for key, value in expected.items():
        have = shown.get(key, "")
        a, b = _number(value), _number(have)
        if (a != b) if (a is not None and b is not None) else (str(value) != str(have)):
            return 0
    return 1


def _to_cents(text) -> int:
    return to_minor_units((_number(text) if text not in (None, "") else None) or Decimal(0), None)


def run_checks(db: sqlite3.Connection, spec: ReconciliationSpec, reference_template: str, now: datetime) -> None:
    """Every class except the store-side ones (see stuck_findings)."""
    prefix, _, suffix = reference_template.partition("{deal_id}")
    ref = f"'{_sql_text(prefix)}' || d.id || '{_sql_text(suffix)}'"
    grace = (now - timedelta(hours=spec.grace_hours)).isoformat()

    def add(cls: str, select: str, params: tuple = ()) -> None:
        db.execute("INSERT INTO finding (cls, severity, record_type, crm_id, accounting_id, invoice_number, detail, action) "
                   f"SELECT '{cls}', '{spec.severity(cls)}', {select}", params)

    unlinked_won = "d.won = 1 AND NOT EXISTS (SELECT 1 FROM link l WHERE l.crm_id = d.id)"
    add("link_missing", f"""'deal', d.id, i.id, i.number,
        'invoice ' || coalesce(i.number, i.id) || ' carries the deal''s reference ' || i.reference || ' but is not linked'
        || CASE WHEN i.subtotal_cents = d.amount_cents AND i.currency = d.currency THEN ''
           ELSE ' (and its amount or currency differs: ' || money(i.subtotal_cents, i.currency) || ' vs '
                || money(d.amount_cents, d.currency) || ')' END,
        'link the deal to the invoice (safe fix relink_exact_reference when amount and currency agree)'
        FROM deal d JOIN invoice i ON i.reference = {ref} AND i.live = 1 WHERE {unlinked_won}""")
    db.execute(f"""CREATE TEMP TABLE proximity AS
        SELECT d.id AS deal_id, min(i.id) AS invoice_id FROM deal d
        JOIN deal_company dc ON dc.deal_id = d.id JOIN customer_link cl ON cl.crm_id = dc.company_id
        JOIN invoice i ON i.contact_id = cl.accounting_id AND i.currency = d.currency
             AND i.subtotal_cents = d.amount_cents AND i.live = 1
             AND abs(julianday(i.issued) - julianday(substr(d.closed, 1, 10))) <= {int(spec.proximity_days)}
             AND NOT EXISTS (SELECT 1 FROM link l2 WHERE l2.accounting_id = i.id)
        WHERE {unlinked_won} AND NOT EXISTS (SELECT 1 FROM invoice r WHERE r.reference = {ref} AND r.live = 1)
        GROUP BY d.id""")
    add("probable_match_unlinked", """'deal', p.deal_id, p.invoice_id, i.number,
        'invoice ' || coalesce(i.number, p.invoice_id) || ' has this deal''s customer, currency and amount ('
        || money(i.subtotal_cents, i.currency) || ') within the date window, but no reference or link',
        'confirm they belong together and link them, or fix whichever is wrong'
        FROM proximity p JOIN invoice i ON i.id = p.invoice_id""")
    add("won_deal_without_invoice", f"""'deal', d.id, NULL, NULL,
        CASE WHEN d.unreadable IS NOT NULL THEN 'won deal cannot be read: ' || d.unreadable
             ELSE 'won deal (' || money(d.amount_cents, d.currency) || ', closed ' || coalesce(substr(d.closed, 1, 10), '?')
                  || ') has no invoice' END
        || CASE WHEN w.reason IS NOT NULL THEN '; it waits in the exception queue: ' || w.reason ELSE '' END,
        CASE WHEN w.reason IS NOT NULL THEN w.owner || ': fix it at the source (ledgerlink exceptions list)'
             ELSE 'run won-deal-to-invoice; if it stays, look at the run log' END
        FROM deal d LEFT JOIN waiting w ON w.record_id = d.id WHERE {unlinked_won} AND coalesce(d.closed, '') < ?
        AND NOT EXISTS (SELECT 1 FROM invoice r WHERE r.reference = {ref} AND r.live = 1)
        AND NOT EXISTS (SELECT 1 FROM proximity p WHERE p.deal_id = d.id)""", (grace,))
    add("invoice_without_deal", f"""'invoice', NULL, i.id, i.number,
        'live sales invoice ' || coalesce(i.number, i.id) || ' (' || money(i.subtotal_cents + coalesce(i.tax_cents, 0), i.currency)
        || ', reference ' || coalesce(i.reference, 'none') || ') is not explained by any deal',
        'link it to its deal, or leave it if it was raised outside the CRM on purpose'
        FROM invoice i WHERE i.live = 1
        AND NOT EXISTS (SELECT 1 FROM link l WHERE l.accounting_id = i.id)
        AND NOT EXISTS (SELECT 1 FROM deal d WHERE i.reference = {ref})
        AND NOT EXISTS (SELECT 1 FROM proximity p WHERE p.invoice_id = i.id)""")
    add("amount_mismatch", f"""'link', d.id, i.id, i.number,
        'deal amount ' || money(d.amount_cents, d.currency) || ' but invoice ' || coalesce(i.number, i.id)
        || ' totals ' || money(i.subtotal_cents, i.currency) || ' excl. VAT',
        'correct whichever is wrong (a credit note in accounting, or the deal in the CRM)'
        {LINKED} WHERE i.live = 1 AND d.currency = i.currency AND d.amount_cents != i.subtotal_cents""")
    add("currency_mismatch", f"""'link', d.id, i.id, i.number,
        'deal is in ' || coalesce(d.currency, '?') || ' but invoice ' || coalesce(i.number, i.id) || ' is in ' || i.currency,
        'credit the invoice and re-invoice in the deal''s currency, or correct the deal'
        {LINKED} WHERE i.live = 1 AND coalesce(d.currency, '') != coalesce(i.currency, '')""")
    add("tax_mismatch", f"""'invoice', d.id, i.id, i.number,
        'invoice ' || coalesce(i.number, i.id) || ' has VAT ' || money(i.tax_cents, i.currency)
        || CASE WHEN i.odd_tax_types IS NOT NULL THEN ' on tax type(s) ' || i.odd_tax_types || ' the spec does not use'
                ELSE ' where its lines at the active rates give ' || money(i.expected_tax_cents, i.currency) END,
        'have finance check the tax types (OUTPUT is the old 14 %) and issue a credit note if wrong'
        {LINKED} WHERE i.live = 1 AND (i.odd_tax_types IS NOT NULL OR abs(i.tax_cents - i.expected_tax_cents) > 1)""")
    add("status_mismatch", f"""'deal', d.id, i.id, i.number,
        'the deal shows ' || d.crm_values || ' but invoice ' || coalesce(i.number, i.id) || ' says ' || i.expected_values,
        'write the payment status again (safe fix repush_payment_status)'
        {LINKED} WHERE same_values(i.expected_values, d.crm_values) = 0""")
    add("broken_link", """'link', l.crm_id, l.accounting_id, l.number,
        CASE WHEN i.id IS NULL THEN 'linked invoice ' || coalesce(l.number, l.accounting_id) || ' no longer exists in accounting'
             WHEN d.id IS NULL THEN 'linked deal ' || l.crm_id || ' no longer exists in the CRM'
             ELSE 'deal ' || l.crm_id || ' is no longer won but invoice ' || coalesce(l.number, l.accounting_id) || ' stands' END,
        'find out what happened and void, relink or re-invoice'
        FROM link l LEFT JOIN invoice i ON i.id = l.accounting_id LEFT JOIN deal d ON d.id = l.crm_id
        WHERE i.id IS NULL OR d.id IS NULL OR (d.won = 0 AND i.live = 1 AND i.status != 'paid')""")
    add("duplicate_invoice", """'invoice', NULL, i.id, i.number,
        'invoice ' || coalesce(i.number, i.id) || ' shares reference ' || i.reference || ' with another live invoice',
        'void the extra invoice (keep the linked one)'
        FROM invoice i WHERE i.live = 1 AND i.reference IS NOT NULL AND i.reference != ''
        AND NOT EXISTS (SELECT 1 FROM link l WHERE l.accounting_id = i.id)
        AND EXISTS (SELECT 1 FROM invoice o WHERE o.reference = i.reference AND o.live = 1 AND o.id != i.id)""")
    add("duplicate_customer", """'contact', NULL, group_concat(c.id), NULL,
        count(*) || ' active accounting contacts share ' || CASE WHEN c.vat_key IS NOT NULL THEN 'VAT number ' || c.vat_key
                                                                  ELSE 'the name ' || min(c.name) END,
        'merge them in accounting (keep the linked one)'
        FROM contact c WHERE c.vat_key IS NOT NULL GROUP BY c.vat_key HAVING count(*) > 1""")
    add("customer_balance_mismatch", """'customer', cl.crm_id, ar.contact_id, NULL,
        'accounting shows ' || money(ar.due, ar.currency) || ' outstanding but the CRM''s deals show '
        || money(coalesce(crm.due, 0), ar.currency),
        'look at this customer''s invoices without deals and status mismatches'
        FROM (SELECT contact_id, currency, sum(due_cents) AS due FROM invoice
              WHERE live = 1 AND status IN ('authorised', 'submitted') GROUP BY contact_id, currency) ar
        JOIN customer_link cl ON cl.accounting_id = ar.contact_id
        LEFT JOIN (SELECT dc.company_id, json_extract(d.crm_values, '$.ledgerlink_invoice_currency') AS currency,
                          sum(to_cents(json_extract(d.crm_values, '$.ledgerlink_amount_due'))) AS due
                   FROM deal d JOIN deal_company dc ON dc.deal_id = d.id GROUP BY 1, 2) crm
             ON crm.company_id = cl.crm_id AND crm.currency = ar.currency
        WHERE ar.due != coalesce(crm.due, 0)""")


def stuck_findings(db: sqlite3.Connection, spec: ReconciliationSpec, store, tenant: str, now: datetime) -> None:
    """Exceptions and approvals that have waited longer than `stuck_after_days` (from the store)."""
    limit = now - timedelta(days=spec.stuck_after_days)
    rows = []
    for item in store.exceptions.list(tenant, status="open", limit=100_000):
        if as_utc(item.first_seen) < limit:
            rows.append(("stuck_exception", spec.severity("stuck_exception"), item.record_type, item.record_id, None, None,
                         f"exception #{item.id} ({item.handoff}, {item.reason_code}) open since "
                         f"{as_utc(item.first_seen):%Y-%m-%d}: {item.detail[:200]}",
                         f"{item.owner}: fix it at the source, then `ledgerlink exceptions retry {item.id}`"))
    for request in store.approvals.list(tenant, status="pending", limit=100_000):
        if as_utc(request.created_at) < limit:
            rows.append(("stuck_approval", spec.severity("stuck_approval"), request.record_type, request.record_id,
                         None, None, f"approval request {request.id} ({', '.join(request.rules)}) waiting since "
                         f"{as_utc(request.created_at):%Y-%m-%d}",
                         "decide it in Slack or the Prefect UI, or let its deadline close it"))
    db.executemany("INSERT INTO finding (cls, severity, record_type, crm_id, accounting_id, invoice_number, detail, action) "
                   "VALUES (?,?,?,?,?,?,?,?)", rows)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
