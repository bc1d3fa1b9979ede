"""Approval requests in Slack: the request message, its decided form, reminders and escalations.

Slack is how finance hears about a request, not where the request lives: if Slack cannot be reached,
the request still waits (and can be decided in the Prefect UI), the failure is audited, and the
deadline sweep posts the message again later. Nothing here logs message text (customer data).
"""

from __future__ import annotations

import logging
from datetime import datetime

from connectors.slack.messages import (ApprovalView, approval_request_blocks, approval_request_text, decided_blocks,
                                       sast_text)
from ledgerlink.store.tables import ApprovalRequest
from ledgerlink.timestamps import as_utc
from ledgerlink.tenants import Tenant, resolve_secret

log = logging.getLogger(__name__)


def slack_client(tenant: Tenant):
    """A slack_sdk WebClient for the tenant's Slack app, or None when the tenant has no Slack."""
    if tenant.slack is None:
        return None
    from slack_sdk import WebClient

    return WebClient(token=resolve_secret(tenant.slack.token), base_url=tenant.slack.base_url, timeout=10)


def run_url(flow_run_id: str | None) -> str | None:
    if not flow_run_id:
        return None
    from prefect.settings import get_current_settings

    ui = get_current_settings().ui_url
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui else None


def view_of(request: ApprovalRequest) -> ApprovalView:
    context = request.context
    return ApprovalView(
        request_id=request.id, handoff=request.handoff, rule_name=context["rule_name"],
        rule_reason=context["rule_reason"], customer=context["customer"],
        amounts=[tuple(pair) for pair in context["amounts"]], lines=context["lines"],
        warnings=context["warnings"], crm_url=context.get("crm_url"), run_url=run_url(request.flow_run_id))


def post_request(client, channel: str, request: ApprovalRequest) -> tuple[str, str] | None:
    """Post the request with Approve / Reject buttons; (channel id, ts) or None if Slack failed."""
    view = view_of(request)
    return _call(lambda: client.chat_postMessage(
        channel=channel, text=approval_request_text(view), blocks=approval_request_blocks(view)), request)


def show_decision(client, request: ApprovalRequest, outcome: str | None = None) -> bool:
    """Replace the request message (and its escalation) with who decided what, when; no buttons."""
    if client is None or not request.slack_ts or request.decided_at is None:
        return False
    view = view_of(request)
    reason = "; ".join(part for part in (request.comment, outcome) if part) or None
    blocks = decided_blocks(view, request.status, _who(request), as_utc(request.decided_at), reason)
    text = f"{request.status.replace('_', ' ')}: {view.handoff} for {view.customer}"
    done = _call(lambda: client.chat_update(channel=request.slack_channel, ts=request.slack_ts,
                                            text=text, blocks=blocks), request) is not None
    if request.escalation_ts and request.context.get("escalation_channel"):
        _call(lambda: client.chat_update(channel=request.context["escalation_channel"], ts=request.escalation_ts,
                                         text=text, blocks=blocks), request)
    return done


def remind(client, request: ApprovalRequest, mentions: str) -> bool:
    """A reply in the request's thread, so the reminder arrives where the facts are."""
    if client is None or not request.slack_ts:
        return False
    return _call(lambda: client.chat_postMessage(
        channel=request.slack_channel, thread_ts=request.slack_ts,
        text=f"Reminder: this request still waits for a decision. {mentions}".strip()), request) is not None


def escalate(client, channel: str, request: ApprovalRequest, mentions: str) -> tuple[str, str] | None:
    view = view_of(request)
    blocks = [{"type": "section", "text": {"type": "mrkdwn",
                                           "text": f":rotating_light: Escalated: no decision yet. {mentions}".strip()}},
              *approval_request_blocks(view)]
    return _call(lambda: client.chat_postMessage(channel=channel, text="Escalated: " + approval_request_text(view),
                                                 blocks=blocks), request)


def mention(user_ids: list[str], group_ids: list[str]) -> str:
    return " ".join([f"<@{u}>" for u in user_ids] + [f"<!subteam^{g}>" for g in group_ids])


def _who(request: ApprovalRequest) -> str:
    by = request.decided_by or "?"
    return by.removeprefix("slack:") if by.startswith("slack:") else by


def _call(send, request: ApprovalRequest) -> tuple[str, str] | None:
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        response = send()
    except SlackApiError as error:
        log.warning("Slack refused a call for approval request %s: %s", request.id, error.response.get("error"))
        return None
    except (SlackClientError, OSError) as error:
        log.warning("Slack unreachable for approval request %s: %s", request.id, type(error).__name__)
        return None
    return str(response.get("channel") or request.slack_channel), str(response.get("ts") or request.slack_ts)


def decided_at_text(moment: datetime) -> str:
    """A stored (possibly naive, UTC) time as connectors.slack.messages shows decisions."""
    return sast_text(as_utc(moment))


def announce_request(client, store, request_id: str, channel: str) -> bool:
    """Post the request once: a request that already has its message is left alone, so a resumed or
    re-run approval run, or the deadline sweep, never posts it twice."""
    request = store.approvals.get(request_id)
    if request is None or request.slack_ts or client is None:
        return bool(request and request.slack_ts)
    posted = post_request(client, channel, request)
    if posted is None:
        return False
    store.approvals.update(request_id, slack_channel=posted[0], slack_ts=posted[1])
    return True
