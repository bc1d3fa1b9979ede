"""The integration's health for a period, from what ledgerlink already records: run outcomes
(sync_run), what it created and updated and which exceptions it raised (the audit log), the open
exception queue, sync latency (source change → written in target, from `invoice.created` events)
and DSO from the staged accounts receivable. Streams the audit log; nothing is held whole.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import col, select

from ledgerlink.store.tables import AuditEvent, SyncRun
from ledgerlink.timestamps import as_utc, parse_timestamp

AGE_BUCKETS = ((1, "0-1 d"), (3, "1-3 d"), (7, "3-7 d"), (30, "7-30 d"))


def health(store, db: sqlite3.Connection, tenant: str, currency: str, now: datetime, days: int = 30) -> dict:
    since = now - timedelta(days=days)
    runs, succeeded = Counter(), Counter()
    with store.session() as session:
        for started, status in session.execute(select(SyncRun.started_at, SyncRun.status).where(
                SyncRun.tenant == tenant, col(SyncRun.started_at) >= since)):
            day = as_utc(started).date().isoformat()
            runs[day] += 1
            succeeded[day] += status == "completed"
        created, updated, errors, latencies = Counter(), Counter(), Counter(), []
        query = select(AuditEvent.at, AuditEvent.action, AuditEvent.after).where(
            AuditEvent.tenant == tenant, col(AuditEvent.at) >= since)
        for at, action, after in session.execute(query.execution_options(yield_per=1000)):
            day = as_utc(at).date().isoformat()
            if action.endswith(".created"):
                created[day] += 1
            elif action.endswith(".updated"):
                updated[day] += 1
            elif action == "exception.raised":
                errors[(day, (after or {}).get("reason_code", "?"))] += 1
            if action == "invoice.created" and (after or {}).get("source_changed_at"):
                changed = parse_timestamp(after["source_changed_at"])
                latencies.append((as_utc(at) - changed).total_seconds())
    return {
        "period_days": days,
        "success_rate_by_day": [{"day": d, "runs": runs[d], "succeeded": succeeded[d]} for d in sorted(runs)],
        "volume_by_day": [{"day": d, "created": created[d], "updated": updated[d]}
                          for d in sorted(set(created) | set(updated))],
        "errors_by_day": [{"day": d, "reason": r, "count": n} for (d, r), n in sorted(errors.items())],
        "open_exceptions": _open_exceptions(store, tenant, now),
        "latency_seconds": _percentiles(latencies),
        "dso_days": _dso(db, currency, now),
    }


def _open_exceptions(store, tenant: str, now: datetime) -> list[dict]:
    counts = Counter()
    for item in store.exceptions.list(tenant, status="open", limit=1_000_000):
        age = (now - as_utc(item.first_seen)).total_seconds() / 86400
        bucket = next((label for limit, label in AGE_BUCKETS if age < limit), "> 30 d")
        counts[(item.owner, bucket)] += 1
    order = [label for _, label in AGE_BUCKETS] + ["> 30 d"]
    return [{"owner": owner, "age": age, "count": n}
            for (owner, age), n in sorted(counts.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1])))]


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    values.sort()
    pick = lambda share: values[min(len(values) - 1, int(share * (len(values) - 1) + 0.5))]  # noqa: E731
    return {"median": f"{pick(0.5):.1f}", "p95": f"{pick(0.95):.1f}", "samples": len(values)}


def _dso(db: sqlite3.Connection, currency: str, now: datetime, days: int = 90) -> str | None:
    """Days sales outstanding = receivables ÷ credit sales of the last `days` × `days` (one currency)."""
    since = (now - timedelta(days=days)).date().isoformat()
    receivable, sales = db.execute(
        "SELECT (SELECT coalesce(sum(due_cents), 0) FROM invoice WHERE live = 1 AND currency = ? "
        "        AND status IN ('authorised', 'submitted')),"
        "       (SELECT coalesce(sum(subtotal_cents + coalesce(tax_cents, 0)), 0) FROM invoice "
        "        WHERE live = 1 AND currency = ? AND issued >= ?)", (currency, currency, since)).fetchone()
    if not sales:
        return None
    return str((Decimal(receivable) / Decimal(sales) * days).quantize(Decimal("0.1")))
