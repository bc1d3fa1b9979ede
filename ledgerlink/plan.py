"""A dry run's plan: what a real run would do, written down instead of done.

A business switches a handoff on only after seeing, record by record, what it would create,
update (with the fields that change), skip, send to a person for review, or park in the exception
queue. The plan is collected while the run works on a scratch copy of the store with its vendor
writes intercepted, so every rule, gate and lookup of a real run applies unchanged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

ACTIONS = ("create", "update", "review", "exception", "trigger")
VERBS = {"create": "create", "update": "update", "review": "ask a person to review",
         "exception": "park in the exception queue:", "trigger": "fire the trigger of"}
SKIPS = {  # run counters that mean "read, and deliberately left alone"
    "skipped_not_triggered": "not won", "skipped_already_invoiced": "already invoiced",
    "skipped_unchanged_exception": "still waiting in the exception queue, unchanged",
    "skipped_not_linked": "not linked by ledgerlink", "skipped_unchanged": "nothing to change",
    "skipped_out_of_scope": "outside the handoff's scope", "review_pending": "waiting for approval",
    "review_rejected": "rejected by finance",
}


@dataclass(frozen=True)
class PlanEntry:
    action: str  # one of ACTIONS
    system: str  # the system written to (crm, accounting) or "ledgerlink" for queue/review
    object: str  # invoice, contact, deal, company, ...
    record: str  # the record's key: reference, CRM id, ...
    detail: str = ""
    changes: dict[str, list] = field(default_factory=dict)  # field -> [before, after] (masked where personal)


@dataclass
class Plan:
    entries: list[PlanEntry] = field(default_factory=list)

    def add(self, action: str, system: str, object_: str, record: str, detail: str = "",
            changes: dict[str, list] | None = None) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown plan action {action!r}")
        self.entries.append(PlanEntry(action, system, object_, str(record), detail, dict(changes or {})))

    def of(self, action: str, object_: str | None = None) -> list[PlanEntry]:
        return [e for e in self.entries if e.action == action and (object_ is None or e.object == object_)]

    def as_dict(self, counts: dict[str, int] | None = None) -> dict:
        skipped = {label: counts[key] for key, label in SKIPS.items() if counts and counts.get(key)}
        return {"entries": [asdict(e) for e in self.entries],
                "summary": dict(Counter(f"{VERBS[e.action]} {e.object}" for e in self.entries)), "skipped": skipped}


def plan_text(plan: dict, limit: int = 40) -> str:
    """The plan as a person reads it in a terminal."""
    lines = ["  DRY RUN: nothing was written to either system, and no cursor moved. The plan:"]
    for what, count in sorted(plan["summary"].items()):
        lines.append(f"    would {what:<40} {count:>6}")
    for why, count in plan["skipped"].items():
        lines.append(f"    would skip ({why})".ljust(50) + f" {count:>6}")
    entries = plan["entries"]
    for entry in entries[:limit]:
        changes = "; ".join(f"{name}: {before!r} → {after!r}" for name, (before, after) in entry["changes"].items())
        text = " · ".join(part for part in (entry["detail"], changes) if part)
        lines.append(f"    {entry['action']:<9} {entry['system']:<10} {entry['object']:<8} {entry['record']:<14} {text[:110]}")
    if len(entries) > limit:
        lines.append(f"    … and {len(entries) - limit} more (the full plan is in the run's Prefect artifact)")
    return "\n".join(lines)
