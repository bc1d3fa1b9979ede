"""Fixtures for the Slack tests: the fake Slack on loopback, and an interactivity app served on
loopback with a recording decision handler. Everything goes over real HTTP."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
from slack_sdk import WebClient

from connectors.slack.fake_slack import BOT_TOKEN, serve, start_fake_slack
from connectors.slack.interactivity import (DecisionOutcome, interactivity_app,
                                            open_reject_reason_modal)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class RecordingHandler:
    """A DecisionHandler that records calls; its answer, delay and failure are set per test."""

    client: WebClient
    outcome: DecisionOutcome = DecisionOutcome(accepted=True, message="approved")
    delay: float = 0.0
    error: Exception | None = None
    decisions: list[tuple] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def decide(self, request_id, decision, user_id, reason):
        self.decisions.append((request_id, decision, user_id, reason))
        try:
            time.sleep(self.delay)
            if self.error is not None:
                raise self.error
            return self.outcome
        finally:
            self.done.set()

    def open_reject_modal(self, trigger_id, request_id):
        open_reject_reason_modal(self.client, trigger_id, request_id)


@pytest.fixture(scope="module")
def fake_slack():
    fake = start_fake_slack()
    yield fake
    fake.stop()


@pytest.fixture
def slack_client(fake_slack):
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)


@pytest.fixture
def handler(slack_client):
    return RecordingHandler(client=slack_client)


@pytest.fixture
def interactivity_url(fake_slack, handler):
    app = interactivity_app(SIGNING_SECRET, handler, response_url_prefixes=(fake_slack.root_url,))
    server = serve(app, "interactivity")
    yield f"{server.url}/slack/interactivity"
    server.stop()


@pytest.fixture
def signing_secret():
    return SIGNING_SECRET
