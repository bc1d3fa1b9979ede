"""Secrets never, and personal data only masked, in what a run writes for people to read:
logs, Prefect artifacts, the audit log, the exception queue and the run records."""

from __future__ import annotations

import json
import logging
import re

from sqlalchemy import text

NAMES = ["audit_event", "exception_item", "sync_run", "record_link", "write_intent", "sync_state",
         "artifact won-deal", "artifact payment", "artifact contacts"]
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.example\.co\.za")


def test_a_full_round_leaks_no_secret_and_no_unmasked_email(spine, caplog):
    caplog.set_level(logging.DEBUG)
    spine.sync_contacts()
    spine.run()
    spine.pay_invoices()
    store = spine.store()
    token = store.tokens.load("demo", "xero")
    secrets = {"pat-sandbox-hubspot", spine.sandboxes.xero_client_secret, "rt-sandbox-0",
               token.refresh_token, token.access_token, spine.sandboxes.xero_refresh_token}
    written = [caplog.text]
    with store.engine.connect() as connection:
        for table in ("audit_event", "exception_item", "sync_run", "record_link", "write_intent", "sync_state"):
            written.append(json.dumps([list(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table}"))]))
    from prefect.artifacts import Artifact

    for key in ("won-deal-to-invoice-demo", "payment-to-crm-demo", "contact-to-accounting-contact-demo"):
        artifact = Artifact.get(key)
        written.append(str(artifact.data) + str(artifact.description))
    everything = "\n".join(written)
    for secret in secrets:
        assert secret not in everything, "a secret was written where people read"
    leaks = {name: EMAIL.findall(part) for name, part in zip(NAMES, written[1:]) if EMAIL.findall(part)}
    assert not leaks  # audit, queue, runs, links, intents, sync state, artifacts
    assert not EMAIL.findall(caplog.text)
