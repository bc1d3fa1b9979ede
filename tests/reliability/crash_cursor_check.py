"""The cursor rule, checked at a kill: a cursor never passes a record whose effects are not durable.

A handoff's cursor may move past a record only once what the record should cause is written
down where the next run will find it: the link (an invoice or a customer made), the exception
item (a record that waits for a person), or the values on the CRM deal (payment status). The
clean world says what each record should cause; the killed world's store and vendors must
already show it for every record its cursors have passed. Anything else is a record that a
crash at that moment would lose for good (no later run reads it again).
"""

from __future__ import annotations

from connectors.delta import DeltaCursor
from ledgerlink.timestamps import epoch_ms

from crash_outcome import Fingerprint, Snapshot, fingerprint

CRM_CURSORS = {"contact-to-accounting-contact": ("companies", "customer"),
               "won-deal-to-invoice": ("deals", "invoice")}
LEDGER_FOLLOWERS = {"payment-to-crm:payments": "payments", "payment-to-crm:credit_notes": "credit_notes"}


def _passed(cursor: DeltaCursor, stamp: int, key: str) -> bool:
    return not cursor.fresh([key], lambda _: stamp, lambda k: k)


def cursor_violations(snap: Snapshot, clean: Fingerprint) -> tuple[list[str], int]:
    """One line per record a cursor has passed without its effect being durable, and how many
    passed records were checked (a check that saw none proves nothing)."""
    problems: list[str] = []
    checked = 0
    mine = fingerprint(snap)
    for handoff, value in sorted(snap.cursors.items()):
        cursor = DeltaCursor.decode(value)
        if handoff in CRM_CURSORS:
            found, passed = _crm_records(handoff, cursor, snap, clean)
        elif handoff == "payment-to-crm":
            passed = [i.id for i in snap.invoices if _passed(cursor, epoch_ms(i.updated_at), i.id)]
            found = _deals_up_to_date(handoff, passed, snap, mine, clean)
        elif handoff in LEDGER_FOLLOWERS:
            changes = getattr(snap, LEDGER_FOLLOWERS[handoff])
            passed = [invoice for change in changes if _passed(cursor, epoch_ms(change.updated_at), change.id)
                      for invoice in change.invoice_ids]
            found = _deals_up_to_date(handoff, passed, snap, mine, clean)
        elif handoff == "contact-to-accounting-contact:accounting":
            passed = [c.id for c in snap.contacts if _passed(cursor, epoch_ms(c.updated_at), c.id)]
            found = _edit_conflicts(handoff, passed, snap, clean)
        else:
            found, passed = [f"cursor {handoff} is not known to this check"], []
        problems += found
        checked += len(set(passed))
    return problems, checked


def _crm_records(handoff: str, cursor: DeltaCursor, snap: Snapshot, clean: Fingerprint) -> tuple[list[str], list]:
    object_type, link_type = CRM_CURSORS[handoff]
    records = snap.deals if object_type == "deals" else snap.companies
    problems, passed = [], []
    for record_id, (stamp, _) in records.items():
        if not _passed(cursor, stamp, record_id):
            continue
        passed.append(record_id)
        if (link_type, record_id) in clean.links and record_id not in snap.links.get(link_type, {}):
            problems.append(f"{handoff} passed {object_type} {record_id} but its {link_type} link is not stored")
        want = clean.exceptions.get((handoff, record_id))
        have = snap.exceptions.get((handoff, record_id))
        if want and (have is None or have.reason_code != want[0]):
            problems.append(f"{handoff} passed {object_type} {record_id} but its exception ({want[0]}) is not queued")
    return problems, passed


def _deals_up_to_date(handoff: str, invoice_ids: list[str], snap: Snapshot, mine: Fingerprint,
                      clean: Fingerprint) -> list[str]:
    by_accounting = {link.accounting_id.lower(): crm_id for crm_id, link in snap.links.get("invoice", {}).items()}
    problems = []
    for invoice_id in sorted(set(invoice_ids)):
        deal_id = by_accounting.get(invoice_id.lower())
        if deal_id is None:
            continue  # not an invoice ledgerlink made: nothing to mirror
        if mine.deals.get(deal_id) != clean.deals.get(deal_id):
            problems.append(f"{handoff} passed invoice {invoice_id} but deal {deal_id} shows "
                            f"{mine.deals.get(deal_id)} (clean: {clean.deals.get(deal_id)})")
    return problems


def _edit_conflicts(handoff: str, passed: list[str], snap: Snapshot, clean: Fingerprint) -> list[str]:
    company_of = {link.accounting_id.lower(): crm_id for crm_id, link in snap.links.get("customer", {}).items()}
    problems = []
    for contact in snap.contacts:
        company = company_of.get(contact.id.lower())
        if company is None or contact.id not in passed:
            continue
        want = clean.exceptions.get(("contact-to-accounting-contact", company))
        if want and want[0] == "accounting_edit_conflict" and ("contact-to-accounting-contact", company) not in snap.exceptions:
            problems.append(f"{handoff} passed contact {contact.id} but the edit conflict of company {company} is not queued")
    return problems
