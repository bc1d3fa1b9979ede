"""Secrets never, and personal data only masked, on the second stack too: a Pipedrive + QuickBooks
round (contacts, a dry run, won deals, payments, the reconciliation) scanned everywhere it writes
for people to read — logs, the store's every table, Prefect artifacts, the dry run's plan and the
reconciliation's CSV and HTML — for the tenant's known secrets (the Pipedrive API token, the
QuickBooks client secret, every refresh and access token it held) and for unmasked e-mails."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import date

from sqlalchemy import inspect, text

EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.example\.co\.za")


def test_a_pipedrive_quickbooks_round_leaks_no_secret_and_no_unmasked_email(tmp_path, monkeypatch, prefect_server,
                                                                              caplog):
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.demo import demo_tenants_file
    from flows.linked_update import payment_to_crm
    from flows.reconciliation import reconciliation
    from flows.won_deal_to_invoice import won_deal_to_invoice
    from ledgerlink.store import open_store
    from prefect.artifacts import Artifact

    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.setenv("LEDGERLINK_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    REGISTRY.clear()
    caplog.set_level(logging.DEBUG)
    pair = start_pair("pipedrive", "quickbooks", seed=42, limits=False)
    try:
        first_refresh = pair.accounting.state.auth.current_refresh_token
        demo_tenants_file(tmp_path, pair, rate_limits=False, tenant="leaks")
        contact_to_accounting_contact(tenant="leaks")
        plan = won_deal_to_invoice(tenant="leaks", dry_run=True)
        won = won_deal_to_invoice(tenant="leaks")
        number = won["created"][0]["invoice"]
        _, due = pair.accounting.invoice(number)
        pair.accounting.pay(number, due, date(2026, 11, 20))
        payment_to_crm(tenant="leaks")
        recon = reconciliation(tenant="leaks")
        store = open_store()
        token = store.tokens.load("leaks", "quickbooks")
        secrets = {pair.crm.state.token, pair.accounting.state.auth.client_secret, first_refresh,
                   pair.accounting.state.auth.current_refresh_token, token.refresh_token, token.access_token,
                   os.environ["LEDGERLINK_LEAKS_QUICKBOOKS_CLIENT_SECRET"]}
        written = {"logs": caplog.text, "dry-run plan": json.dumps(plan, default=str),
                   "reconciliation files": open(recon["csv"], encoding="utf-8").read()
                   + open(recon["html"], encoding="utf-8").read()}
        with store.engine.connect() as connection:
            for table in inspect(store.engine).get_table_names():
                if table in ("oauth_token", "config_version", "alembic_version"):
                    continue  # tokens live here on purpose; config holds no customer data
                rows = connection.execute(text(f"SELECT * FROM {table}"))
                written[f"table {table}"] = json.dumps([list(map(str, row)) for row in rows])
        for key in ("contact-to-accounting-contact-leaks", "won-deal-to-invoice-leaks", "payment-to-crm-leaks",
                    "won-deal-to-invoice-leaks-dry-run", "reconciliation-leaks"):
            artifact = Artifact.get(key)
            written[f"artifact {key}"] = str(artifact.data) + str(artifact.description)
        store.dispose()
    finally:
        pair.stop(save=False)
    assert len(secrets) >= 5 and all(secrets)
    for where, content in written.items():
        for secret in secrets:
            assert secret not in content, f"a secret was written in {where}"
    leaks = {where: EMAIL.findall(content)[:3] for where, content in written.items() if EMAIL.findall(content)}
    assert not leaks, leaks
