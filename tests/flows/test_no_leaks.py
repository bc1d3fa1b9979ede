"""Secrets never, and personal data only masked, in what a run writes for people to read:
logs, Prefect artifacts, the audit log, the exception queue, the run records, the reconciliation's
CSV and HTML, and every message sent to Slack."""

from __future__ import annotations

import json
import logging
import os
import re

from sqlalchemy import text

NAMES = ["audit_event", "exception_item", "sync_run", "record_link", "write_intent", "sync_state",
         "artifact won-deal", "artifact payment", "artifact contacts", "artifact reconciliation",
         "artifact reconciliation summary", "slack messages", "reconciliation csv and html"]
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.example\.co\.za")


def test_a_full_round_leaks_no_secret_and_no_unmasked_email(spine, slack, caplog):
    from connectors.slack.fake_slack import BOT_TOKEN
    from flows.ops_alerts import exception_digest
    from flows.reconciliation import reconciliation

    caplog.set_level(logging.DEBUG)
    spine.sync_contacts()
    spine.run()
    spine.pay_invoices()
    recon = reconciliation(tenant="demo")
    exception_digest(tenant="demo")
    store = spine.store()
    token = store.tokens.load("demo", "xero")
    secrets = {"pat-sandbox-hubspot", spine.sandboxes.xero_client_secret, "rt-sandbox-0",
               token.refresh_token, token.access_token, spine.sandboxes.xero_refresh_token, BOT_TOKEN,
               os.environ["DEMO_SLACK_SIGNING_SECRET"]}
    slack_sent = json.dumps([slack.calls(method) for method in ("chat.postMessage", "chat.update")])
    reports = open(recon["csv"], encoding="utf-8").read() + open(recon["html"], encoding="utf-8").read()
    written = [caplog.text]
    with store.engine.connect() as connection:
        for table in ("audit_event", "exception_item", "sync_run", "record_link", "write_intent", "sync_state"):
            written.append(json.dumps([list(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]))
    from prefect.artifacts import Artifact

    for key in ("won-deal-to-invoice-demo", "payment-to-crm-demo", "contact-to-accounting-contact-demo",
                "reconciliation-demo", "reconciliation-demo-summary"):
        artifact = Artifact.get(key)
        written.append(str(artifact.data) + str(artifact.description))
    written += [slack_sent, reports]
    assert slack.calls("chat.postMessage")  # the digest (and the reconciliation summary) went out
    everything = "\n".join(written)
    for secret in secrets:
        assert secret not in everything, "a secret was written where people read"
    leaks = {name: EMAIL.findall(part) for name, part in zip(NAMES, written[1:]) if EMAIL.findall(part)}
    assert not leaks  # audit, queue, runs, links, intents, sync state, artifacts
    assert not EMAIL.findall(caplog.text)
