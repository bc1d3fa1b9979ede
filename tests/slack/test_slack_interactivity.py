"""The interactivity endpoint over real HTTP: signed clicks from the fake's payloads, decisions
run after the 3-second ACK, refusals told privately via response_url, and nothing else let in."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from connectors.slack.fake_slack import (block_actions_payload, interaction_body, serve,
                                         sign_request, view_submission_payload)
from connectors.slack.interactivity import SOMETHING_WENT_WRONG, DecisionOutcome, interactivity_app

ACK_LIMIT = 3.0  # Slack's protocol: an interaction not acknowledged within 3 s is shown as failed


def _click(fake_slack, action, request_id, user="U123"):
    return interaction_body(block_actions_payload(action, request_id, user,
                                                  fake_slack.response_url(request_id)))


def _post(url, body, headers):
    return httpx.post(url, content=body, headers=headers, timeout=10)


def test_approve_click_is_acked_at_once_and_decided_once_in_the_background(
        fake_slack, handler, interactivity_url, signing_secret):
    handler.delay = 5.0
    body = _click(fake_slack, "approve", "apr-slow")

    started = time.monotonic()
    answer = _post(interactivity_url, body, sign_request(signing_secret, body))
    ack_seconds = time.monotonic() - started
    print(f"\nACK after {ack_seconds * 1000:.0f} ms with a handler that takes 5 s")

    assert answer.status_code == 200
    assert ack_seconds < ACK_LIMIT / 2
    assert handler.done.wait(10)
    assert handler.decisions == [("apr-slow", "approve", "U123", None)]
    assert fake_slack.responses("apr-slow") == []  # accepted: nothing to tell the user


@pytest.mark.parametrize("case", ["forged", "stale", "missing"])
def test_unverified_requests_are_401_and_never_reach_the_handler(
        fake_slack, handler, interactivity_url, signing_secret, case):
    body = _click(fake_slack, "approve", f"apr-{case}")
    headers = {
        "forged": sign_request("not-the-secret", body),
        "stale": sign_request(signing_secret, body, int(time.time()) - 6 * 60),
        "missing": {"Content-Type": "application/x-www-form-urlencoded"},
    }[case]

    answer = _post(interactivity_url, body, headers)

    assert answer.status_code == 401 and len(answer.text) < 60 and "Traceback" not in answer.text
    time.sleep(0.2)
    assert handler.decisions == []


def test_a_replayed_request_is_401_and_decided_only_once(
        fake_slack, handler, interactivity_url, signing_secret):
    body = _click(fake_slack, "approve", "apr-replay")
    headers = sign_request(signing_secret, body)

    first = _post(interactivity_url, body, headers)
    replay = _post(interactivity_url, body, headers)

    assert (first.status_code, replay.status_code) == (200, 401)
    assert replay.text == "request already received"
    assert handler.done.wait(5)
    time.sleep(0.2)
    assert handler.decisions == [("apr-replay", "approve", "U123", None)]


def test_reject_opens_the_reason_modal_then_submission_decides_with_the_reason(
        fake_slack, handler, interactivity_url, signing_secret):
    body = _click(fake_slack, "reject", "apr-rej", user="U456")
    assert _post(interactivity_url, body, sign_request(signing_secret, body)).status_code == 200

    opened = [c for c in fake_slack.wait_for_calls("views.open", 1)
              if c["view"]["private_metadata"] == "apr-rej"]
    assert len(opened) == 1 and opened[0]["view"]["callback_id"] == "reject_reason"
    assert opened[0]["trigger_id"]
    assert handler.decisions == []

    body = interaction_body(view_submission_payload("apr-rej", "U456", "  price not agreed "))
    answer = _post(interactivity_url, body, sign_request(signing_secret, body))

    assert answer.status_code == 200 and answer.content == b""  # empty 200 closes the modal
    assert handler.done.wait(5)
    assert handler.decisions == [("apr-rej", "reject", "U456", "price not agreed")]


def test_a_blank_reject_reason_keeps_the_modal_open_with_an_error(
        handler, interactivity_url, signing_secret):
    body = interaction_body(view_submission_payload("apr-blank", "U456", "   "))
    answer = _post(interactivity_url, body, sign_request(signing_secret, body))

    assert answer.json() == {"response_action": "errors",
                             "errors": {"reason": "Please give a reason."}}
    assert handler.decisions == []


def test_a_refused_decision_is_told_to_the_clicker_as_an_ephemeral_message(
        fake_slack, handler, interactivity_url, signing_secret):
    handler.outcome = DecisionOutcome(False, "already decided by <@U1> at 2026-11-22 10:15 SAST")
    body = _click(fake_slack, "approve", "apr-done")
    _post(interactivity_url, body, sign_request(signing_secret, body))

    (reply,) = fake_slack.wait_for_responses("apr-done", 1)
    assert reply == {"response_type": "ephemeral", "replace_original": False,
                     "text": "already decided by <@U1> at 2026-11-22 10:15 SAST"}


def test_a_refused_reject_after_the_modal_is_told_via_the_clicks_response_url(
        fake_slack, handler, interactivity_url, signing_secret):
    handler.outcome = DecisionOutcome(False, "not authorised")
    click = _click(fake_slack, "reject", "apr-noauth", user="U789")
    _post(interactivity_url, click, sign_request(signing_secret, click))
    fake_slack.wait_for_calls("views.open", 1)
    body = interaction_body(view_submission_payload("apr-noauth", "U789", "wrong customer"))
    _post(interactivity_url, body, sign_request(signing_secret, body))

    (reply,) = fake_slack.wait_for_responses("apr-noauth", 1)
    assert reply["text"] == "not authorised" and reply["response_type"] == "ephemeral"


def test_a_failing_handler_gives_one_clean_line_and_logs_without_user_data(
        fake_slack, handler, interactivity_url, signing_secret, caplog):
    handler.error = RuntimeError("database is locked")
    body = _click(fake_slack, "approve", "apr-boom", user="U0SECRETUSER")

    with caplog.at_level(logging.ERROR, logger="connectors.slack.interactivity"):
        answer = _post(interactivity_url, body, sign_request(signing_secret, body))
        (reply,) = fake_slack.wait_for_responses("apr-boom", 1)

    assert answer.status_code == 200 and answer.content == b""
    assert reply["text"] == SOMETHING_WENT_WRONG == "something went wrong; the request is still pending"
    assert "database is locked" not in str(reply) and "Traceback" not in str(reply)
    assert any("apr-boom" in r.getMessage() for r in caplog.records)
    assert not any("U0SECRETUSER" in r.getMessage() for r in caplog.records)


def test_replies_go_only_to_slacks_response_url_host_by_default(
        fake_slack, handler, signing_secret, caplog):
    handler.outcome = DecisionOutcome(False, "not authorised")
    server = serve(interactivity_app(signing_secret, handler), "interactivity-default-hosts")
    try:
        body = _click(fake_slack, "approve", "apr-elsewhere")
        with caplog.at_level(logging.WARNING, logger="connectors.slack.interactivity"):
            answer = _post(f"{server.url}/slack/interactivity", body,
                           sign_request(signing_secret, body))
            assert handler.done.wait(5)
            time.sleep(0.2)
    finally:
        server.stop()

    assert answer.status_code == 200
    assert fake_slack.responses("apr-elsewhere") == []
    assert any("response_url" in r.getMessage() for r in caplog.records)


def test_a_signed_but_unreadable_payload_is_400(interactivity_url, signing_secret):
    body = b"payload=not-json"
    answer = _post(interactivity_url, body, sign_request(signing_secret, body))
    assert answer.status_code == 400 and answer.text == "bad payload"
