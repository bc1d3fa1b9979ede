"""Deployments: every tenant's enabled handoffs are served on Johannesburg-time schedules."""



def test_serve_builds_one_deployment_per_tenant_and_handoff(tmp_path, monkeypatch):
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text("""
tenants:
  acme:
    crm: {system: hubspot, token: env:ACME_TOKEN}
    accounting: {system: xero, tenant_id: t-1, client_id: env:A, client_secret: env:B, refresh_token: env:C}
  karoo:
    crm: {system: hubspot, token: env:KAROO_TOKEN}
    accounting: {system: xero, tenant_id: t-2, client_id: env:A, client_secret: env:B, refresh_token: env:C}
    handoffs: [won-deal-to-invoice]
""")
    monkeypatch.setenv("LEDGERLINK_TENANTS", str(tenants))
    from deployments.serve import deployments_for_tenants

    deployments = {d.name: d for d in deployments_for_tenants()}
    assert set(deployments) == {"contact-to-accounting-contact-acme", "won-deal-to-invoice-acme",
                                "payment-to-crm-acme", "won-deal-to-invoice-karoo",
                                "review-approval-acme", "approval-deadlines-acme",
                                "review-approval-karoo", "approval-deadlines-karoo"}
    assert deployments["review-approval-karoo"].schedules == []  # started per review item, never on a clock
    assert deployments["approval-deadlines-karoo"].parameters == {"tenant": "karoo"}
    won = deployments["won-deal-to-invoice-karoo"]
    assert won.parameters == {"tenant": "karoo"} and "tenant:karoo" in won.tags
    [schedule] = won.schedules
    assert schedule.schedule.cron == "*/5 * * * *" and schedule.schedule.timezone == "Africa/Johannesburg"
    assert deployments["payment-to-crm-acme"].schedules[0].schedule.cron == "*/15 * * * *"
    assert not any("ACME_TOKEN" in str(d.parameters) for d in deployments.values())  # references stay in the file
