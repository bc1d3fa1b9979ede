"""The reconciliation spec (`kind: reconcile`): what the nightly comparison of CRM and accounting
checks, how long records may wait, which fixes are safe to make without a person, and when finance
is told in Slack. Read-only unless a fix is declared safe here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SAFE_FIXES = {
    "relink_exact_reference": "a won deal without a link whose live invoice carries its deterministic reference "
                              "and the same amount and currency is linked to it (the write-back follows)",
    "repush_payment_status": "a deal whose payment fields disagree with its invoice gets them written again "
                             "(the payment-to-crm values)",
}
Severity = Literal["high", "medium", "low"]


class ReconciliationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["reconcile"]
    description: str
    invoices_from: str = Field(default="won-deal-to-invoice", description="the create-invoices handoff compared")
    payments_from: str = Field(default="payment-to-crm", description="the update-linked handoff compared")
    grace_hours: float = Field(default=24, ge=0, description="a won deal younger than this may still be on its way")
    proximity_days: int = Field(default=7, ge=0, le=90, description="date window for amount+customer matches")
    stuck_after_days: float = Field(default=3, gt=0, description="exception or approval older than this is stuck")
    safe_fixes: list[Literal["relink_exact_reference", "repush_payment_status"]] = Field(default_factory=list)
    severities: dict[str, Severity] = Field(default_factory=dict, description="class -> severity")
    thresholds: dict[str, int] = Field(default_factory=dict,
                                       description="class (or any_high) -> unfixed count that alerts finance")
    slack_channel: str | None = None
    path: Path | None = None

    @property
    def expectations_path(self) -> None:
        return None

    def severity(self, cls: str) -> str:
        return self.severities.get(cls, "medium")
