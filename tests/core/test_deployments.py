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
                                "review-approval-karoo", "approval-deadlines-karoo",
                                "reconciliation-acme", "reconciliation-karoo", "watchdog-acme", "watchdog-karoo",
                                "exception-digest-acme", "exception-digest-karoo"}
    assert deployments["exception-digest-karoo"].schedules[0].schedule.cron == "0 7 * * 1-5"
    assert deployments["reconciliation-acme"].schedules[0].schedule.cron == "30 1 * * *"
    assert deployments["review-approval-karoo"].schedules == []  # started per review item, never on a clock
    assert deployments["approval-deadlines-karoo"].parameters == {"tenant": "karoo"}
    won = deployments["won-deal-to-invoice-karoo"]
    assert won.parameters == {"tenant": "karoo"} and "tenant:karoo" in won.tags
    [schedule] = won.schedules
    assert schedule.schedule.cron == "*/5 * * * *" and schedule.schedule.timezone == "Africa/Johannesburg"
    assert deployments["payment-to-crm-acme"].schedules[0].schedule.cron == "*/15 * * * *"
    assert not any("ACME_TOKEN" in str(d.parameters) for d in deployments.values())  # references stay in the file


def test_prefect_yaml_entrypoints_are_flows_with_johannesburg_schedules():
    """`prefect deploy --all` reads this file: every entrypoint must load and every clock is SAST."""
    import importlib
    from pathlib import Path

    import yaml
    from prefect.flows import Flow

    data = yaml.safe_load((Path(__file__).parents[2] / "deployments" / "prefect.yaml").read_text())
    names = set()
    for deployment in data["deployments"]:
        module, _, attribute = deployment["entrypoint"].partition(":")
        flow = getattr(importlib.import_module(module.replace("/", ".").removesuffix(".py")), attribute)
        assert isinstance(flow, Flow), deployment["name"]
        names.add(f"{flow.name}/{deployment['name']}")
        assert all(s["timezone"] == "Africa/Johannesburg" for s in deployment.get("schedules", []))
    from tasks.approval_runs import approval_deployment

    assert approval_deployment("demo") in names  # the name the handoffs start approval runs by
    assert {"reconciliation/reconciliation-demo", "watchdog/watchdog-demo", "exception-digest/exception-digest-demo"} <= names


def test_prefect_deploy_all_registers_every_deployment_on_a_server(prefect_server, tmp_path):
    """What README documents: `prefect deploy --prefect-file deployments/prefect.yaml --all`."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    repo = Path(__file__).parents[2]
    env = {**os.environ, "PREFECT_API_URL": get_current_settings().api.url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_CLI_PROMPT": "false", "PREFECT_HOME": str(tmp_path)}
    prefect = [sys.executable, "-m", "prefect"]
    subprocess.run([*prefect, "work-pool", "create", "ledgerlink-process", "--type", "process"], env=env, cwd=repo,
                   capture_output=True, text=True, timeout=120)
    deployed = subprocess.run([*prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all"],
                              env=env, cwd=repo, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]

    declared = yaml.safe_load((repo / "deployments" / "prefect.yaml").read_text())["deployments"]
    with get_client(sync_client=True) as client:
        found = {d.name: d for d in client.read_deployments()}
        try:
            for deployment in declared:
                registered = found[deployment["name"]]
                assert registered.work_pool_name == "ledgerlink-process"
                crons = sorted((s.schedule.cron, s.schedule.timezone) for s in registered.schedules)
                assert crons == sorted((s["cron"], s["timezone"]) for s in deployment.get("schedules", []))
        finally:  # the session's server is shared: later tests run the flows ad hoc
            for deployment in found.values():
                client.delete_deployment(deployment.id)
