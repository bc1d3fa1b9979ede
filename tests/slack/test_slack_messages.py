"""The approval message, its decided form and the reject-reason modal, as Slack would render them."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from connectors.slack.messages import (ApprovalView, approval_request_blocks,
                                       approval_request_text, decided_blocks, reject_reason_modal)


def _view(**changes) -> ApprovalView:
    values = dict(
        request_id="apr-7f3c", handoff="won-deal-to-invoice", rule_name="large_first_invoice",
        rule_reason="first invoice for this customer is above ZAR 50,000.00",
        customer="Th*** B***ery (Pty) Ltd",
        amounts=[("Subtotal", "ZAR 52,000.00"), ("VAT 15%", "ZAR 7,800.00"),
                 ("Total", "ZAR 59,800.00")],
        lines=["Onboarding workshop × 1", "Annual licence × 4"],
        warnings=["VAT number not yet verified"],
        crm_url="https://app.hubspot.com/contacts/1/deal/42", run_url="http://127.0.0.1:4200/runs/abc")
    values.update(changes)
    return ApprovalView(**values)


def _blocks_of(blocks, kind):
    return [block for block in blocks if block["type"] == kind]


def test_request_has_approve_and_reject_buttons_carrying_the_request_id():
    blocks = approval_request_blocks(_view())

    (actions,) = _blocks_of(blocks, "actions")
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["style"], approve["value"]) == ("approve", "primary", "apr-7f3c")
    assert (reject["action_id"], reject["style"], reject["value"]) == ("reject", "danger", "apr-7f3c")
    assert blocks[0]["type"] == "header" and "won-deal-to-invoice" in blocks[0]["text"]["text"]


def test_request_shows_reason_amounts_lines_warnings_and_links():
    text = json.dumps(approval_request_blocks(_view()), ensure_ascii=False)

    for expected in ("first invoice for this customer is above ZAR 50,000.00", "ZAR 59,800.00",
                     "VAT 15%", "Annual licence × 4", "VAT number not yet verified",
                     "|CRM record>", "|Prefect run>", "large_first_invoice"):
        assert expected in text


def test_no_amount_in_the_blocks_is_a_float():
    def walk(value):
        if isinstance(value, float):
            raise AssertionError(f"float in blocks: {value}")
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        if isinstance(value, list):
            for item in value:
                walk(item)

    walk(approval_request_blocks(_view()))
    walk(decided_blocks(_view(), "approved", "U123", datetime.now(timezone.utc)))


def test_a_float_amount_is_refused_when_the_view_is_built():
    with pytest.raises(TypeError, match="formatted string"):
        _view(amounts=[("Total", 59800.0)])


def test_customer_text_is_escaped_so_it_cannot_inject_links_or_mentions():
    text = json.dumps(approval_request_blocks(_view(customer="<!channel> & <http://x|y>")))
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text


def test_long_texts_are_cut_to_slack_limits():
    blocks = approval_request_blocks(_view(handoff="h" * 400, rule_reason="r" * 5000))
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in _blocks_of(blocks, "section") if "text" in b)


def test_decided_blocks_have_no_actions_and_say_who_and_when_in_sast():
    at = datetime(2026, 11, 22, 8, 15, tzinfo=timezone.utc)
    blocks = decided_blocks(_view(), "approved", "U123", at, None)

    assert not _blocks_of(blocks, "actions")
    assert "Approved by <@U123> at 2026-11-22 10:15 SAST" in json.dumps(blocks)
    assert "ZAR 59,800.00" in json.dumps(blocks)


def test_rejected_and_timed_out_blocks_carry_their_outcome():
    at = datetime(2026, 11, 22, 8, 15, tzinfo=timezone.utc)
    rejected = json.dumps(decided_blocks(_view(), "rejected", "U9", at, "price not agreed"))
    timed_out = json.dumps(decided_blocks(_view(), "timed_out", "", at, None))

    assert "Rejected by <@U9> at 2026-11-22 10:15 SAST" in rejected and "price not agreed" in rejected
    assert "Timed out at 2026-11-22 10:15 SAST" in timed_out


def test_naive_decision_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        decided_blocks(_view(), "approved", "U1", datetime(2026, 11, 22, 10, 15))


def test_reject_modal_asks_for_a_required_reason_and_carries_the_request_id():
    modal = reject_reason_modal("apr-7f3c")

    assert (modal["type"], modal["callback_id"], modal["private_metadata"]) == (
        "modal", "reject_reason", "apr-7f3c")
    (block,) = modal["blocks"]
    assert block["type"] == "input" and block["optional"] is False
    assert block["element"] == {**block["element"], "type": "plain_text_input", "action_id": "reason"}


def test_fallback_text_names_the_customer_and_the_reason():
    assert "Th*** B***ery" in approval_request_text(_view())
