"""A run's outcome as a person reads it: the CLI prints it, the flow publishes it as an artifact."""

from __future__ import annotations

from dataclasses import dataclass, field

COUNT_LABELS = [
    ("deals_read", "deals read (changed since last run)"),
    ("records_read", "records read (changed since last run)"),
    ("payments_read", "payments read (changed since last run)"),
    ("credit_notes_read", "credit notes read (changed since last run)"),
    ("companies_read", "companies read (changed since last run)"),
    ("customers_updated", "customers updated in accounting"),
    ("customers_written_back", "accounting ids written back to CRM companies"),
    ("accounting_edit_conflicts", "edits in accounting to CRM-owned fields (reported)"),
    ("skipped_not_linked", "skipped: not linked by ledgerlink"),
    ("skipped_unchanged", "skipped: nothing to change"),
    ("records_updated", "records updated"),
    ("retried", "records re-processed after `exceptions retry`"),
    ("trigger_onboarding", "onboarding triggered (once per deal)"),
    ("skipped_not_triggered", "skipped: not won"),
    ("skipped_already_invoiced", "skipped: already invoiced"),
    ("skipped_unchanged_exception", "skipped: still waiting in the exception queue, unchanged"),
    ("candidates", "won deals checked by the gate"),
    ("gate_failed", "failed the gate"),
    ("invoices_created", "invoices created"),
    ("review_requested", "held for a person's approval (new requests)"),
    ("review_pending", "still waiting for approval"),
    ("review_rejected", "skipped: rejected by finance"),
    ("review_superseded", "approval requests replaced (the deal changed)"),
    ("invoice_recovered_by_lookup", "invoices found again after an interrupted run"),
    ("customers_created", "customers created in accounting"),
    ("customers_matched_by_vat_number", "customers matched to existing contacts by VAT number"),
    ("customers_matched_by_email", "customers matched to existing contacts by billing email"),
    ("customers_matched_by_name", "customers matched to existing contacts by normalised name"),
    ("written_back", "invoice numbers written back to deals"),
    ("exceptions", "records sent to the exception queue"),
]


@dataclass
class RunReport:
    tenant: str
    handoff: str
    status: str
    seconds: float
    counts: dict[str, int]
    created: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    api: dict[str, dict] = field(default_factory=dict)
    flow_run_id: str | None = None
    updated: list[dict] = field(default_factory=list)
    plan: dict | None = None  # a dry run's plan (ledgerlink.plan.Plan.as_dict)

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "handoff": self.handoff, "status": self.status, "seconds": self.seconds,
                "counts": self.counts, "created": self.created, "problems": self.problems, "api": self.api,
                "flow_run_id": self.flow_run_id, "updated": self.updated, "plan": self.plan}

    def text(self, limit: int = 15) -> str:
        if self.plan is not None:
            from ledgerlink.plan import plan_text

            api = [f"  API {system:<10} calls {stats.get('calls', 0):>5} (reads only)" for system, stats in self.api.items()]
            return "\n".join([f"{self.handoff} for tenant {self.tenant}: dry run {self.status} in {self.seconds:.1f}s",
                              plan_text(self.plan), *api])
        lines = [f"{self.handoff} for tenant {self.tenant}: {self.status} in {self.seconds:.1f}s"]
        lines += [f"  {label:<58} {self.counts[key]:>7}" for key, label in COUNT_LABELS if self.counts.get(key)]
        for system, stats in self.api.items():
            lines.append(f"  API {system:<10} calls {stats.get('calls', 0):>5}  retries {stats.get('retries', 0):>3}"
                         f"  429s {stats.get('rate_limited', 0):>3}")
        if self.created:
            lines.append("  invoices created:")
            lines += [f"    {c['invoice'] or '?':<10} deal {c['deal']:<12} {c['total']:>16}  {c['customer']}"
                      for c in self.created[:limit]]
            if len(self.created) > limit:
                lines.append(f"    … and {len(self.created) - limit} more")
        if self.updated:
            lines.append("  records updated:")
            ordered = sorted(self.updated, key=lambda u: u["source"] or "")
            lines += [f"    {u['source'] or '':<10} deal {u['target']:<14} {u['values']}" for u in ordered[:limit]]
            if len(self.updated) > limit:
                lines.append(f"    … and {len(self.updated) - limit} more")
        if self.problems:
            lines.append("  exception queue (see `ledgerlink exceptions list`):")
            lines += [f"    {p.get('type', 'deal'):<7} {p['record']:<12} {p['reason']:<26} owner {p['owner']:<10} {p['detail'][:90]}"
                      for p in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"    … and {len(self.problems) - limit} more")
        return "\n".join(lines)

    def markdown(self) -> str:
        rows = "\n".join(f"| {label} | {self.counts[key]} |" for key, label in COUNT_LABELS if self.counts.get(key))
        return (f"## {self.handoff} · {self.tenant} · {self.status}\n\n| what | count |\n|---|---|\n{rows}\n")

    def table(self) -> list[dict]:
        """One row per record that moved or did not, for the Prefect table artifact."""
        return [*({"deal": c["deal"], "outcome": "invoiced", "invoice": c["invoice"], "detail": c["total"]}
                  for c in self.created),
                *({"deal": u["target"], "outcome": "updated", "invoice": u["source"] or "", "detail": u["values"]}
                  for u in self.updated),
                *({"deal": p["record"], "outcome": f"exception: {p['reason']}", "invoice": "",
                   "detail": f"owner {p['owner']}: {p['detail'][:200]}"} for p in self.problems)]
