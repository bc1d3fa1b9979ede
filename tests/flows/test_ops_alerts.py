"""Ops hear about failed runs, silent handoffs and waiting exceptions in Slack (a fake Web API over
HTTP), with the tenant, the handoff and the run named — and never customer data."""

from __future__ import annotations

import pytest


def test_a_failed_run_is_reported_with_tenant_handoff_and_run(spine, slack, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_DEMO_HUBSPOT_TOKEN", "pat-revoked")  # HubSpot answers 401

    with pytest.raises(Exception):
        spine.run()

    [alert] = slack.calls("chat.postMessage")
    assert alert["channel"] == "#ledgerlink-ops"
    assert "*won-deal-to-invoice* failed for tenant *demo*" in alert["text"]
    assert "run " in alert["text"] or "Open the run" in alert["text"]
    assert "pat-revoked" not in alert["text"]  # secrets stay out of messages


def test_watchdog_reports_each_silent_handoff_once_per_window(spine, slack):
    from flows.ops_alerts import watchdog

    spine.sync_contacts()
    spine.run()

    assert watchdog(tenant="demo") == ["payment-to-crm", "reconciliation"]  # never ran; the others just did
    assert watchdog(tenant="demo") == []  # told once per window, not every hour
    texts = [call["text"] for call in slack.calls("chat.postMessage")]
    assert len(texts) == 2 and "*payment-to-crm* has not completed a run for tenant *demo* ever" in texts[0]


def test_the_morning_digest_goes_to_each_owner_with_counts_not_customer_data(spine, slack):
    from flows.ops_alerts import exception_digest

    spine.run()
    store = spine.store()
    open_items = store.exceptions.list("demo")
    by_owner = {owner: sum(1 for i in open_items if i.owner == owner) for owner in {i.owner for i in open_items}}

    sent = exception_digest(tenant="demo")

    assert sent == {owner: 1 for owner in by_owner}
    calls = {call["channel"]: call["text"] for call in slack.calls("chat.postMessage")}
    assert f"*{by_owner['sales-ops']}* open exception item(s) for *sales-ops*" in calls["#sales-ops"]
    assert "for *finance*" in calls["#ledgerlink-ops"]  # owners without a channel of their own
    names = [company["name"] for company in spine.companies().values() if company.get("name")]
    assert not any(name in text for text in calls.values() for name in names)


def test_one_tenants_failure_does_not_stop_another_tenants_run(spine, slack, tmp_path, monkeypatch):
    """Every tenant's runs are their own deployments and flow runs: a tenant whose Xero connection
    was revoked fails alone (and is reported by name) while the next tenant's run completes."""
    import yaml

    from flows.won_deal_to_invoice import won_deal_to_invoice
    from ledgerlink.tenants import tenants_path

    data = yaml.safe_load(tenants_path().read_text())
    demo = data["tenants"]["demo"]
    data["tenants"]["karoo"] = {**demo, "accounting": {**demo["accounting"], "refresh_token": "env:KAROO_XERO_RT"}}
    tenants_path().write_text(yaml.safe_dump(data))
    monkeypatch.setenv("KAROO_XERO_RT", "rt-revoked")

    with pytest.raises(Exception):
        won_deal_to_invoice(tenant="karoo")
    healthy = won_deal_to_invoice(tenant="demo")

    assert healthy["status"] == "completed" and healthy["counts"]["invoices_created"] > 0
    [alert] = slack.calls("chat.postMessage")
    assert "tenant *karoo*" in alert["text"] and "tenant *demo*" not in alert["text"]
