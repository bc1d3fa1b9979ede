"""Reconciliation's safe fixes: only the classes the spec declares safe, each change audited.

relink_exact_reference  `link_missing` where amount and currency agree → the link is stored (its
                        write-back to the deal follows on the next won-deal run, as for any link)
repush_payment_status   `status_mismatch` → the payment handoff writes those deals again now
"""

from __future__ import annotations

import sqlite3

from prefect.utilities.annotations import quote

from ledgerlink.store.audit_log import NewAuditEvent
from tasks.connect import handoff_context
from tasks.context import HandoffContext


def relink_exact_reference(ctx: HandoffContext, db: sqlite3.Connection) -> int:
    rows = db.execute("""SELECT f.seq, f.crm_id, f.accounting_id, f.invoice_number FROM finding f
        JOIN deal d ON d.id = f.crm_id JOIN invoice i ON i.id = f.accounting_id
        WHERE f.cls = 'link_missing' AND i.subtotal_cents = d.amount_cents AND i.currency = d.currency
        AND (SELECT count(*) FROM invoice o WHERE o.reference = i.reference AND o.live = 1) = 1""").fetchall()
    if not rows:
        return 0
    tenant = ctx.tenant.name
    taken = ctx.store.links.for_accounting_ids(tenant, "invoice", [r[2] for r in rows])
    rows = [r for r in rows if r[2] not in taken and r[2].lower() not in taken]
    ctx.store.links.save(tenant, "invoice", [{"crm_id": crm_id, "accounting_id": accounting_id,
                                              "accounting_number": number} for _, crm_id, accounting_id, number in rows])
    ctx.store.audit.append(tenant, [NewAuditEvent(
        "reconcile.relinked", handoff=ctx.name, run_id=ctx.run_id, deal_id=crm_id, invoice_number=number,
        after={"invoice_id": accounting_id, "fix": "relink_exact_reference"}) for _, crm_id, accounting_id, number in rows])
    db.executemany("UPDATE finding SET fixed = 1 WHERE seq = ?", [(r[0],) for r in rows])
    return len(rows)


def repush_payment_status(ctx: HandoffContext, db: sqlite3.Connection, payments_from: str) -> int:
    from tasks.linked_update import update_linked

    rows = db.execute("SELECT seq, accounting_id FROM finding WHERE cls = 'status_mismatch'").fetchall()
    if not rows:
        return 0
    payments = handoff_context(ctx.tenant.name, payments_from, run_id=ctx.run_id, store=ctx.store)
    try:
        ids = [accounting_id for _, accounting_id in rows]
        known = ctx.store.sync_states.for_records(ctx.tenant.name, payments_from, ids)
        ctx.store.sync_states.save(ctx.tenant.name, payments_from, [  # forget what we thought we wrote
            {"record_id": state.record_id, "target_id": state.target_id, "checksum": "stale",
             "values": state.values, "revisit_on": state.revisit_on} for state in known.values()])
        for start in range(0, len(ids), 50):
            update_linked(quote(payments), quote(payments.accounting.invoices_by_ids(ids[start:start + 50])))
        written = ctx.store.sync_states.for_records(ctx.tenant.name, payments_from, ids)
        fixed = [seq for seq, accounting_id in rows
                 if accounting_id in written and written[accounting_id].checksum != "stale"]
    finally:
        payments.close()
    ctx.store.audit.append(ctx.tenant.name, [NewAuditEvent(
        "reconcile.repushed", handoff=ctx.name, run_id=ctx.run_id, after={"invoices": len(fixed),
                                                                          "fix": "repush_payment_status"})])
    db.executemany("UPDATE finding SET fixed = 1 WHERE seq = ?", [(seq,) for seq in fixed])
    return len(fixed)
