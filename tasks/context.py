"""What every task of one handoff run needs, built once per run by the flow.

Tasks take the context as a parameter (with caching off: it holds live clients, not data), so each
task stays a plain function of its batch that tests can call directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ledgerlink.customer_spec import CustomerSyncSpec
from ledgerlink.linked_spec import LinkedUpdateSpec
from ledgerlink.plan import Plan
from ledgerlink.ledger import LedgerTaxRate
from ledgerlink.spec import CrmMapping, HandoffSpec, InvoiceSettings
from ledgerlink.store import Store
from ledgerlink.tenants import Tenant


REPORT_ROWS = 1000


@dataclass
class HandoffContext:
    tenant: Tenant
    spec: HandoffSpec | LinkedUpdateSpec | CustomerSyncSpec  # the run's handoff, any kind
    store: Store
    crm: Any  # a connectors.contract.CrmConnector
    accounting: Any  # a connectors.contract.AccountingConnector
    run_id: str | None = None
    active_tax: dict[str, LedgerTaxRate] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    created: list[dict] = field(default_factory=list)  # invoices made this run, for the report
    problems: list[dict] = field(default_factory=list)  # exceptions raised this run, for the report
    updated: list[dict] = field(default_factory=list)  # records an update-linked run changed
    approved: dict[str, Any] = field(default_factory=dict)  # record id -> its approved ApprovalRequest
    changed_at: dict[str, Any] = field(default_factory=dict)  # record id -> when it last changed at the source
    directory: Any = None  # the accounting contact directory, read once per run when needed
    customer_spec: Any = None  # contact-to-accounting-contact, which every handoff uses for customers
    report: Any = None  # the RunReport, once the run has ended (tasks.run_record)
    run_alive: Callable[[str | None], bool] = lambda run_id: False  # is another run still working?
    plan: Plan | None = None  # set for a dry run: writes become plan entries (tasks.dry_run)
    config: Any = None  # ledgerlink.config_versions.ConfigVersions: what configuration this run uses
    _gate: Any = None  # suite path -> Gate, see gate_for

    @property
    def mapping(self) -> CrmMapping:
        return self.spec.mapping_for(self.tenant.crm.system)

    @property
    def invoice_rules(self) -> InvoiceSettings:
        """The invoice rules as the tenant's accounting system applies them (create-invoices only)."""
        return self.spec.invoice.for_system(self.tenant.accounting.system)

    @property
    def config_version(self) -> str | None:
        """The combined id `ctx.store` stamps on this run's audit events, write intents and run record."""
        return self.config.id if self.config is not None else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tenant.timezone)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def gate(self):
        """The handoff's own expectations gate (won deals: one row per deal)."""
        return self.gate_for(self.spec.expectations_path, "deal_id")

    def gate_for(self, suite_path, key_column: str):
        """A gate per suite, built on first use (importing GX costs seconds) and kept for the run."""
        if self._gate is None:
            self._gate = {}
        if suite_path not in self._gate:
            from expectations.gate import Gate

            self._gate[suite_path] = Gate(suite_path, key_column=key_column)
        return self._gate[suite_path]

    def note(self, kind: str, row: dict) -> None:
        """A row for the run's report (`created`, `updated` or `problems`). A report is for people:
        past REPORT_ROWS rows only the counts go on, so a run's memory does not grow with its size
        — except in a dry run, whose plan must list every record."""
        rows = getattr(self, kind)
        if len(rows) < REPORT_ROWS or self.plan is not None:
            rows.append(row)

    def close(self) -> None:
        for connector in (self.crm, self.accounting):
            connector.close()

    def api_stats(self) -> dict[str, dict]:
        return {
            self.tenant.crm.system: self.crm.stats.snapshot(),
            self.tenant.accounting.system: self.accounting.stats.snapshot(),
        }
