"""Slack approvals: Block Kit messages, request verification, the interactivity endpoint and a
local fake of the Slack Web API.

Finance approves or rejects paused handoffs from Slack. This package knows Slack only; it never
imports Prefect, so the flow integration supplies a `DecisionHandler` that resumes the flow.
"""

from connectors.slack.interactivity import (DecisionHandler, DecisionOutcome, interactivity_app,
                                            open_reject_reason_modal)
from connectors.slack.messages import (ApprovalView, approval_request_blocks,
                                       approval_request_text, decided_blocks, reject_reason_modal)
from connectors.slack.signature import ReplayGuard, SlackSignatureError, verify

__all__ = ["ApprovalView", "DecisionHandler", "DecisionOutcome", "ReplayGuard",
           "SlackSignatureError", "approval_request_blocks", "approval_request_text",
           "decided_blocks", "interactivity_app", "open_reject_reason_modal",
           "reject_reason_modal", "verify"]
