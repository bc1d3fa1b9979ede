"""Deciding an approval request, from Slack or the Prefect UI, exactly once and on the record.

`record_decision` is the one place a decision is written: compare-and-set on the request, then an
audit event. `SlackDecisions` is the Slack interactivity endpoint's handler: it checks that the
clicking user may approve every rule that fired (the tenant's roles: Slack users or user groups),
records the decision, resumes the waiting Prefect run and updates the Slack message. Whatever is
refused is answered in one line ("not authorised …", "already decided by … at …"), never a trace.
"""

from __future__ import annotations

import logging
import time

from connectors.slack.interactivity import DecisionOutcome, open_reject_reason_modal
from ledgerlink.spec import load_spec
from ledgerlink.store import Store
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus
from ledgerlink.tenants import Tenant
from tasks.approval_runs import resume_approval_run
from tasks.approval_slack import decided_at_text, show_decision, slack_client
from tasks.merge_review import needs_a_pick

log = logging.getLogger(__name__)

DECISION_STATUS = {"approve": ApprovalStatus.APPROVED, "reject": ApprovalStatus.REJECTED}


def record_decision(store: Store, request_id: str, decision: str, *, by: str, via: str,
                    comment: str | None = None, corrections: dict | None = None) -> tuple[bool, ApprovalRequest]:
    """(True, request) if this call decided it; (False, request) if someone had already."""
    won, request = store.approvals.decide(request_id, DECISION_STATUS[decision], by=by, via=via,
                                          comment=comment, corrections=corrections)
    if request is None:
        raise KeyError(f"no approval request {request_id}")
    if won:
        store.audit.append(request.tenant, [NewAuditEvent(
            f"approval.{request.status}", actor=by[:64], handoff=request.handoff, run_id=request.flow_run_id,
            deal_id=request.record_id if request.record_type == "deal" else None,
            customer_id=request.context.get("customer_crm_id"),
            after={"request": request.id, "rules": request.rules, "via": via, "comment": comment,
                   "corrections": corrections})])
    return won, request


def already_decided(request: ApprovalRequest) -> str:
    """The one line a late click gets."""
    when = decided_at_text(request.decided_at) if request.decided_at else "an unknown time"
    if request.status == ApprovalStatus.TIMED_OUT.value:
        return f"This request timed out at {when} without a decision; it waits in the exception queue."
    if request.status == ApprovalStatus.SUPERSEDED.value:
        return f"This request was replaced at {when}: the record changed, so a new request was posted."
    who = request.decided_by or "someone"
    who = f"<@{who.removeprefix('slack:')}>" if who.startswith("slack:") else who
    return f"Already {request.status} by {who} at {when}."


class SlackDecisions:
    """connectors.slack.DecisionHandler for one tenant's Slack app."""

    def __init__(self, tenant: Tenant, store: Store, *, group_cache_seconds: float = 60.0) -> None:
        if tenant.slack is None:
            raise ValueError(f"tenant {tenant.name} has no slack: section")
        self.tenant, self.store = tenant, store
        self.client = slack_client(tenant)
        self._groups: dict[str, tuple[float, set[str]]] = {}
        self._group_ttl = group_cache_seconds

    # -- DecisionHandler ----------------------------------------------------------------------
    def decide(self, request_id: str, decision: str, user_id: str, reason: str | None) -> DecisionOutcome:
        request = self.store.approvals.get(request_id)
        if request is None or request.tenant != self.tenant.name:
            return DecisionOutcome(False, "This approval request is unknown here.")
        if request.status != ApprovalStatus.PENDING.value:
            return DecisionOutcome(False, already_decided(request))
        missing = self.roles_not_held(request, user_id)
        if missing:
            log.info("approval request %s: user not authorised (%s)", request_id, ", ".join(missing))
            return DecisionOutcome(False, f"You are not authorised to decide this request "
                                          f"(it needs: {', '.join(missing)}). It keeps waiting.")
        if decision == "approve" and needs_a_pick(request):
            return DecisionOutcome(False, "Several accounting contacts match: choose one in the Prefect run's "
                                          "form (the run link in the message). It keeps waiting.")
        won, request = record_decision(self.store, request_id, decision, by=f"slack:{user_id}", via="slack",
                                       comment=reason)
        if not won:
            return DecisionOutcome(False, already_decided(request))
        resume_approval_run(request, {"decision": decision, "approver": f"slack:{user_id}", "comment": reason or ""})
        show_decision(self.client, request)
        return DecisionOutcome(True, f"{request.status}")

    def open_reject_modal(self, trigger_id: str, request_id: str) -> None:
        open_reject_reason_modal(self.client, trigger_id, request_id)

    # -- authorisation ------------------------------------------------------------------------
    def roles_not_held(self, request: ApprovalRequest, user_id: str) -> list[str]:
        """The approver roles of this request the user does not hold (empty: may decide).

        Every fired rule's role must be held; once escalated, the escalation role may decide alone.
        """
        if request.escalated_at is not None:
            review = load_spec(request.handoff).review
            if review and review.escalate_to and self._holds(review.escalate_to, user_id):
                return []
        return [role for role in request.approvers if not self._holds(role, user_id)]

    def _holds(self, role_name: str, user_id: str) -> bool:
        role = self.tenant.slack.roles.get(role_name)
        if role is None:
            return False
        return user_id in role.users or any(user_id in self._members(group) for group in role.groups)

    def _members(self, group_id: str) -> set[str]:
        cached = self._groups.get(group_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        from slack_sdk.errors import SlackApiError

        try:
            members = set(self.client.usergroups_users_list(usergroup=group_id).get("users") or [])
        except SlackApiError as error:
            log.warning("could not read Slack user group %s: %s", group_id, error.response.get("error"))
            members = set()
        self._groups[group_id] = (time.monotonic() + self._group_ttl, members)
        return members

