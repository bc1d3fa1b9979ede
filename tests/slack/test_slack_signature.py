"""Request verification: Slack's v0 signature, the 5-minute window, and replay refusal."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.slack.fake_slack import sign_request
from connectors.slack.signature import ReplayGuard, SlackSignatureError, verify

SECRET = "test-signing-secret"
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


def _reason(headers, body=BODY, now=None, secret=SECRET) -> str:
    with pytest.raises(SlackSignatureError) as refused:
        verify(secret, headers, body, now=now)
    return refused.value.reason


def test_a_request_signed_with_the_secret_passes():
    verify(SECRET, sign_request(SECRET, BODY), BODY)


def test_header_names_are_matched_whatever_their_case():
    headers = {k.lower(): v for k, v in sign_request(SECRET, BODY).items()}
    verify(SECRET, headers, BODY)


def test_signature_matches_slacks_documented_example():
    # The worked example in Slack's "Verifying requests from Slack" guide.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
            b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
            b"-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
            b"00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d"
            b"10d2c447fce8b6703c")
    headers = {"X-Slack-Request-Timestamp": "1531420618",
               "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"}
    verify(secret, headers, body, now=1531420618 + 10)
    assert sign_request(secret, body, 1531420618)["X-Slack-Signature"] == headers["X-Slack-Signature"]


def test_missing_headers_are_refused():
    signed = sign_request(SECRET, BODY)
    assert _reason({}) == "missing"
    assert _reason({"X-Slack-Signature": signed["X-Slack-Signature"]}) == "missing"
    assert _reason({"X-Slack-Request-Timestamp": signed["X-Slack-Request-Timestamp"]}) == "missing"


def test_non_numeric_timestamp_is_refused():
    assert _reason({"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}) == "malformed"


@pytest.mark.parametrize("age", [-301, 301, 360])
def test_a_timestamp_more_than_five_minutes_off_is_stale(age):
    now = time.time()
    assert _reason(sign_request(SECRET, BODY, int(now) - age), now=now) == "stale"


def test_a_timestamp_just_inside_the_window_passes():
    now = time.time()
    verify(SECRET, sign_request(SECRET, BODY, int(now) - 299), BODY, now=now)


def test_wrong_secret_or_changed_body_is_forged():
    assert _reason(sign_request("another-secret", BODY)) == "forged"
    assert _reason(sign_request(SECRET, BODY), body=BODY + b"x") == "forged"
    assert _reason(sign_request(SECRET, BODY), body=b"\xff\xfe") == "forged"


def test_replay_guard_refuses_an_exact_repeat_inside_the_window():
    guard, now = ReplayGuard(), time.time()
    guard.check(str(int(now)), "v0=aa", now=now)
    guard.check(str(int(now)), "v0=bb", now=now)  # another request in the same second

    with pytest.raises(SlackSignatureError) as refused:
        guard.check(str(int(now)), "v0=aa", now=now + 299)
    assert refused.value.reason == "replayed"


def test_replay_guard_forgets_pairs_once_their_timestamp_is_stale():
    guard, stamp = ReplayGuard(), 1_800_000_000
    guard.check(str(stamp), "v0=aa", now=stamp)
    guard.check(str(stamp + 400), "v0=cc", now=stamp + 400)  # purges the first

    assert len(guard) == 1


def test_replay_guard_memory_is_bounded():
    guard, stamp = ReplayGuard(max_entries=100), 1_800_000_000
    for n in range(1000):
        guard.check(str(stamp), f"v0={n}", now=stamp)
    assert len(guard) == 100


def test_replay_guard_lets_exactly_one_of_many_concurrent_replays_through():
    guard, now, accepted = ReplayGuard(), time.time(), []
    start = threading.Barrier(16)

    def attempt():
        start.wait()
        try:
            guard.check(str(int(now)), "v0=same", now=now)
            accepted.append(1)
        except SlackSignatureError:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 1
