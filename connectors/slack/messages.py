"""Block Kit for finance approvals: the request, the decided message and the reject-reason modal.

Pure functions returning Slack-shaped dicts, so the flow integration can post, update and test
them without a Slack client. Money arrives already formatted ("ZAR 1,234.50"): a message never
formats a float, and a non-string amount is refused here rather than rendered wrongly. Text the
caller passes (customer names, reasons) is escaped for mrkdwn and cut to Slack's block limits, so
a long or odd name never makes Slack reject the whole message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

APPROVE_ACTION_ID = "approve"
REJECT_ACTION_ID = "reject"
ACTIONS_BLOCK_ID = "approval_actions"
REJECT_CALLBACK_ID = "reject_reason"
REASON_BLOCK_ID = "reason"
REASON_ACTION_ID = "reason"
SAST = ZoneInfo("Africa/Johannesburg")

Decided = Literal["approved", "rejected", "timed_out", "superseded"]

# Slack's documented limits for the parts used here.
_HEADER_MAX = 150
_SECTION_MAX = 3000
_FIELD_MAX = 2000
_FIELDS_MAX = 10
_CONTEXT_MAX = 10
_REASON_MAX = 500


@dataclass(frozen=True)
class ApprovalView:
    """What a finance person needs to judge one paused request; every value is display-ready.

    `customer` is masked by the caller (POPIA); `amounts` are (label, "ZAR 1,234.50") pairs.
    Sequences are stored as tuples so a view stays immutable after it is built.
    """

    request_id: str
    handoff: str
    rule_name: str
    rule_reason: str
    customer: str
    amounts: Sequence[tuple[str, str]] = ()
    lines: Sequence[str] = ()
    warnings: Sequence[str] = ()
    crm_url: str | None = None
    run_url: str | None = None

    def __post_init__(self) -> None:
        if not self.request_id:
            raise ValueError("request_id must not be empty")
        amounts = tuple((str(label), value) for label, value in self.amounts)
        for label, value in amounts:
            if not isinstance(value, str):
                raise TypeError(f"amount {label!r} must be a formatted string, not "
                                f"{type(value).__name__}")
        object.__setattr__(self, "amounts", amounts)
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "warnings", tuple(self.warnings))


def approval_request_blocks(request: ApprovalView) -> list[dict[str, Any]]:
    """The message that asks for a decision: the facts, then Approve and Reject buttons."""
    return [*_fact_blocks(request, f"Approval needed: {request.handoff}"), _actions(request)]


def approval_request_text(request: ApprovalView) -> str:
    """Plain fallback text for the notification and for clients that cannot show blocks."""
    return _cut(f"Approval needed ({request.handoff}) for {request.customer}: "
                f"{request.rule_reason}", _SECTION_MAX)


def decided_blocks(view: ApprovalView, decision: Decided, by: str, at: datetime,
                   reason: str | None = None) -> list[dict[str, Any]]:
    """The same facts with the buttons gone and who decided, when (SAST), and why."""
    when = sast_text(at)
    if decision == "approved":
        title, line = "Approved", f":white_check_mark: Approved by {_mention(by)} at {when}"
    elif decision == "rejected":
        title, line = "Rejected", f":x: Rejected by {_mention(by)} at {when}"
    elif decision == "timed_out":
        title, line = "Timed out", f":hourglass: Timed out at {when} without a decision"
    elif decision == "superseded":
        title, line = "Superseded", f":arrows_counterclockwise: The record changed at {when}; a new request replaces this one"
    else:
        raise ValueError(f"unknown decision {decision!r}")
    outcome = line + (f"\n*Reason:* {_escape(reason)}" if reason else "")
    return [*_fact_blocks(view, f"{title}: {view.handoff}"), _section(outcome)]


def reject_reason_modal(request_id: str) -> dict[str, Any]:
    """The modal that asks why a request is rejected; the request id rides in private_metadata."""
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK_ID,
        "private_metadata": request_id,
        "title": {"type": "plain_text", "text": "Reject request"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{
            "type": "input",
            "block_id": REASON_BLOCK_ID,
            "optional": False,
            "label": {"type": "plain_text", "text": "Why is this rejected?"},
            "element": {"type": "plain_text_input", "action_id": REASON_ACTION_ID,
                        "multiline": True, "max_length": _REASON_MAX},
        }],
    }


# -- parts --------------------------------------------------------------------------------------
def _fact_blocks(view: ApprovalView, title: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, _HEADER_MAX)}},
        _section(f"Approve or reject *{_escape(view.handoff)}* for *{_escape(view.customer)}*.\n"
                 f"*Why a person must decide:* {_escape(view.rule_reason)}"),
    ]
    facts = [("Customer", view.customer), ("Rule", view.rule_name), *view.amounts]
    blocks.append({"type": "section", "fields": [
        {"type": "mrkdwn", "text": _cut(f"*{_escape(label)}*\n{_escape(value)}", _FIELD_MAX)}
        for label, value in facts[:_FIELDS_MAX]]})
    if view.lines:
        blocks.append(_section("\n".join(f"• {_escape(line)}" for line in view.lines)))
    if view.warnings:
        blocks.append(_section("\n".join(f":warning: {_escape(w)}" for w in view.warnings)))
    blocks.append(_links(view))
    return blocks


def _links(view: ApprovalView) -> dict[str, Any]:
    elements = []
    if view.crm_url:
        elements.append(f"<{_escape(view.crm_url)}|CRM record>")
    if view.run_url:
        elements.append(f"<{_escape(view.run_url)}|Prefect run>")
    elements.append(f"Request `{_escape(view.request_id)}`")
    return {"type": "context",
            "elements": [{"type": "mrkdwn", "text": text} for text in elements[:_CONTEXT_MAX]]}


def _actions(view: ApprovalView) -> dict[str, Any]:
    return {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": [
        {"type": "button", "action_id": APPROVE_ACTION_ID, "style": "primary",
         "text": {"type": "plain_text", "text": "Approve"}, "value": view.request_id},
        {"type": "button", "action_id": REJECT_ACTION_ID, "style": "danger",
         "text": {"type": "plain_text", "text": "Reject"}, "value": view.request_id},
    ]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SECTION_MAX)}}


def _mention(user: str) -> str:
    """A Slack user id becomes a mention; anything else (a name typed in the Prefect UI) is shown as is."""
    if user.startswith("<@"):
        return user
    if user[:1] in ("U", "W") and user.isalnum() and user == user.upper():
        return f"<@{user}>"
    return _escape(user)


def sast_text(at: datetime) -> str:
    """A decision time as finance reads it everywhere: 2026-11-22 10:15 SAST."""
    if at.tzinfo is None:
        raise ValueError("decision time must be timezone-aware")
    return at.astimezone(SAST).strftime("%Y-%m-%d %H:%M SAST")


def _escape(text: str) -> str:
    """mrkdwn control characters, as Slack documents them (&, <, >)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
