"""The `review:` section of a handoff spec: which records a person must judge before they move.

Each rule is a condition over the record's review facts (`REVIEW_FACTS`), a reason finance reads in
Slack, and the approver role allowed to decide it (a tenant maps roles to Slack users and user
groups, since Slack ids belong to one workspace while a spec serves every tenant). Rules are checked
when the spec loads, so a misspelt fact fails there, not in the middle of a run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledgerlink.conditions import ConditionalSpec

# Facts a review rule may name: per invoice (create-invoices handoffs, ledgerlink.review.review_facts)
# and per customer match (sync-customers handoffs, tasks.merge_review).
REVIEW_FACTS = {
    "total": "invoice total incl. VAT (Decimal, the deal's currency)",
    "subtotal": "invoice total excl. VAT",
    "currency": "ISO currency code",
    "line_count": "number of lines",
    "max_discount_percent": "largest line discount, in percent",
    "standard_lines": "lines at the standard VAT rate",
    "zero_rated_lines": "zero-rated (domestic) lines",
    "zero_rated_export_lines": "zero-rated export lines",
    "exempt_lines": "VAT-exempt lines",
    "credit_limit": "the customer's credit limit from the CRM, or null",
    "open_balance": "what the customer owes on authorised invoices in this currency; read from accounting "
                    "only for customers with a credit limit (null otherwise)",
    "exposure": "open_balance + total (null when open_balance is)",
    "gate_warnings": "how many warning-level expectations the record broke",
}
CUSTOMER_FACTS = {
    "merge_candidates": "accounting contacts the company might already be (ambiguous or weak matches)",
    "weak_match": "true when the only candidates match by a similar name or by name with another VAT number",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewRule(ConditionalSpec):
    """`when`: a condition over the review facts (REVIEW_FACTS or CUSTOMER_FACTS, by handoff kind)."""

    reason: str = Field(min_length=3, description="what finance reads: why a person must decide")
    approvers: str = Field(description="approver role; the tenant's slack.roles maps it to people")
    corrections: list[Literal["discount_percent", "accounting_contact_id"]] = Field(
        default_factory=list, description="discount_percent (invoices) or accounting_contact_id (merges)")


class Review(_Strict):
    channel: str = Field(description="Slack channel approval requests are posted to")
    owner: str = Field(default="finance", description="owner of items whose approval timed out")
    remind_after_hours: float = Field(default=4, gt=0)
    escalate_after_hours: float = Field(default=24, gt=0)
    escalation_channel: str | None = None
    escalate_to: str | None = Field(default=None, description="approver role that may also decide once escalated")
    timeout_hours: float = Field(default=72, gt=0)
    annotate: dict[str, str] = Field(default_factory=dict,
                                     description="CRM property -> template written when a request is decided")
    rules: dict[str, ReviewRule]

    @model_validator(mode="after")
    def _ordered_deadlines(self) -> "Review":
        if not self.remind_after_hours < self.escalate_after_hours < self.timeout_hours:
            raise ValueError("deadlines must grow: remind_after_hours < escalate_after_hours < timeout_hours")
        if self.escalate_to and not self.escalation_channel:
            raise ValueError("escalate_to needs an escalation_channel")
        for name, template in self.annotate.items():
            try:
                template.format(**{key: "" for key in ANNOTATION_FIELDS})
            except (KeyError, IndexError, ValueError) as err:
                raise ValueError(f"annotate.{name}: unknown template field {err} "
                                 f"(known: {', '.join(ANNOTATION_FIELDS)})") from None
        return self

    def check_facts(self, facts: dict[str, str]) -> None:
        """ValueError naming the rule and fact when a rule uses a fact this handoff kind has not."""
        for name, rule in self.rules.items():
            unknown = rule.condition.names - set(facts)
            if unknown:
                raise ValueError(f"review rule {name}: unknown fact(s) {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(facts)})")

    @property
    def needs_open_balance(self) -> bool:
        return any({"open_balance", "exposure"} & rule.condition.names for rule in self.rules.values())


ANNOTATION_FIELDS = ("decision", "decided_by", "decided_at", "comment", "rules")
