"""The fake Slack answers the real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from connectors.slack.messages import ApprovalView, approval_request_blocks, reject_reason_modal


def _view() -> ApprovalView:
    return ApprovalView(request_id="apr-1", handoff="won-deal-to-invoice", rule_name="r",
                        rule_reason="why", customer="A*** Ltd", amounts=[("Total", "ZAR 1,150.00")])


def test_calls_without_a_bot_token_are_not_authed(fake_slack):
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=fake_slack.base_url).auth_test()
    assert refused.value.response["error"] == "not_authed"

    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-wrong", base_url=fake_slack.base_url).auth_test()
    assert refused.value.response["error"] == "invalid_auth"


def test_auth_test_answers_like_slack(slack_client):
    answer = slack_client.auth_test()
    assert answer["ok"] and answer["user_id"] and answer["team_id"]


def test_post_then_update_an_approval_message(slack_client, fake_slack):
    posted = slack_client.chat_postMessage(channel="#finance", text="approval needed",
                                           blocks=approval_request_blocks(_view()))
    assert posted["ok"] and posted["channel"].startswith("C") and posted["ts"]

    updated = slack_client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved",
                                       blocks=[])
    assert updated["ts"] == posted["ts"]
    (call,) = [c for c in fake_slack.calls("chat.postMessage") if c.get("text") == "approval needed"]
    assert call["blocks"][-1]["elements"][0]["value"] == "apr-1"


def test_update_of_an_unknown_message_is_message_not_found(slack_client):
    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_update(channel="C0NOPE", ts="1.1", text="x")
    assert refused.value.response["error"] == "message_not_found"


def test_post_ephemeral_and_views_open(slack_client, fake_slack):
    assert slack_client.chat_postEphemeral(channel="C0FIN", user="U1", text="hi")["message_ts"]
    opened = slack_client.views_open(trigger_id="1.2.3", view=reject_reason_modal("apr-1"))

    assert opened["view"]["callback_id"] == "reject_reason" and opened["view"]["id"]
    assert fake_slack.calls("views.open")[-1]["view"]["private_metadata"] == "apr-1"


def test_response_url_records_what_is_posted(fake_slack):
    httpx.post(fake_slack.response_url("apr/9"), json={"text": "hello"}).raise_for_status()
    assert fake_slack.responses("apr/9") == [{"text": "hello"}]
