"""The CLI as a newcomer uses it: the README's demo, twice, then the queue and the audit log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)


def ledgerlink(*args: str, home, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEDGERLINK_HOME": str(home), "PREFECT_HOME": str(home / "prefect")}
    for name in ("LEDGERLINK_DATABASE_URL", "LEDGERLINK_TENANTS", "PREFECT_API_URL"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "ledgerlink.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_help_imports_neither_prefect_nor_great_expectations():
    code = ("import sys\nfrom ledgerlink.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('prefect', 'great_expectations', 'httpx', 'connectors') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip().endswith("[]"), out


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo")
    first = ledgerlink("demo", home=home)
    second = ledgerlink("demo", home=home)
    return home, first, second


def _section(output: str, handoff: str) -> str:
    """The printed report of one handoff (the demo prints each after its run)."""
    return output.split(f"{handoff} for tenant demo:")[-1].split("\n== ")[0]


def test_demo_runs_all_three_handoffs_then_a_second_demo_changes_nothing(demo_home):
    home, first, second = demo_home
    assert first.returncode == 0, first.stderr[-3000:]
    customers = _section(first.stdout, "contact-to-accounting-contact")
    assert "customers created in accounting" in customers and "matched to existing contacts" in customers
    invoices = _section(first.stdout, "won-deal-to-invoice")
    assert "invoices created" in invoices and "INV-0001" in invoices and "currency XXX" in invoices
    assert "INV-0001: paid in full" in first.stdout
    payments = _section(first.stdout, "payment-to-crm")
    assert "records updated" in payments and "onboarding triggered" in payments
    assert "invoice_status=paid" in payments and "invoice_status=partially_paid" in payments
    nightly = first.stdout.split("== and at night: reconciliation ==")[1]
    assert "won_deal_without_invoice" in nightly and "reconciliation-demo-" in nightly and "DSO" in nightly
    assert second.returncode == 0, second.stderr[-3000:]
    assert "customers created" not in _section(second.stdout, "contact-to-accounting-contact")
    again = _section(second.stdout, "won-deal-to-invoice")
    assert "invoices created" not in again and "deals read" not in again  # invoiced deals are not even read
    assert "API hubspot    calls     1 " in again
    assert "records updated" not in _section(second.stdout, "payment-to-crm")


def test_exceptions_and_audit_commands_answer_from_the_store(demo_home):
    home, _, _ = demo_home
    listing = ledgerlink("exceptions", "list", home=home)
    assert listing.returncode == 0 and "amount_not_positive" in listing.stdout and "owner sales-ops" in listing.stdout
    item_id = listing.stdout.split()[0].lstrip("#")
    shown = ledgerlink("exceptions", "show", item_id, home=home)
    assert '"reason_code"' in shown.stdout
    retry = ledgerlink("exceptions", "retry", item_id, home=home)
    assert "set to retry" in retry.stdout
    rerun = ledgerlink("exceptions", "retry", item_id, "--now", home=home)  # the demo's sandboxes are gone
    assert rerun.returncode == 2 and rerun.stderr.startswith("ledgerlink: no tenants file")
    assert "the items stay set to retry" in rerun.stderr
    again = ledgerlink("exceptions", "show", item_id, home=home)
    assert '"status": "retrying"' in again.stdout and "exception.retry_requested by cli:" in again.stdout

    finance = ledgerlink("exceptions", "list", "--owner", "finance", "--handoff", "won-deal-to-invoice", home=home)
    other_id = finance.stdout.split()[0].lstrip("#")
    assert "owner finance" in finance.stdout and "owner sales-ops" not in finance.stdout
    ledgerlink("exceptions", "assign", other_id, "--to", "ops-lead", home=home)
    assert f"#{other_id}" in ledgerlink("exceptions", "list", "--owner", "ops-lead", home=home).stdout
    assert ledgerlink("exceptions", "list", "--older-than", "1", home=home).stdout.startswith("no open")
    unexplained = ledgerlink("exceptions", "resolve", other_id, home=home)
    assert unexplained.returncode == 2 and "--reason" in unexplained.stderr
    ledgerlink("exceptions", "resolve", other_id, "--reason", "credited by hand in Xero", home=home)
    closed = ledgerlink("exceptions", "show", other_id, home=home).stdout
    assert '"status": "resolved"' in closed and "credited by hand in Xero" in closed
    audit = ledgerlink("audit", "--invoice", "INV-0001", home=home)
    assert "invoice.created" in audit.stdout and "deal.written_back" in audit.stdout
    assert "example.co.za" not in audit.stdout  # personal data stays masked
    assert ledgerlink("audit", "--verify", "--tenant", "demo", home=home).stdout.strip() == "audit chain intact"


def test_user_errors_are_one_readable_line(tmp_path):
    result = ledgerlink("run", "won-deal-to-invoice", "--tenant", "acme", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("ledgerlink: no tenants file at") and "Traceback" not in result.stderr
    assert ledgerlink("exceptions", "show", "999", home=tmp_path).stderr.strip() == "ledgerlink: no exception item #999"
    assert "say what to search for" in ledgerlink("audit", home=tmp_path).stderr
    served = ledgerlink("serve", home=tmp_path)
    assert served.returncode == 2 and served.stderr.startswith("ledgerlink: no tenants file at")


def test_slack_serve_verifies_every_request_and_approvals_list_reads_the_store(tmp_path):
    import socket
    import time

    import httpx

    tenants = tmp_path / "tenants.yaml"
    tenants.write_text("""
tenants:
  acme:
    crm: {system: hubspot, token: env:ACME_TOKEN}
    accounting: {system: xero, tenant_id: t-1, client_id: env:A, client_secret: env:B, refresh_token: env:C}
    slack: {token: env:ACME_SLACK_TOKEN, signing_secret: env:ACME_SLACK_SECRET}
  karoo:
    crm: {system: hubspot, token: env:KAROO_TOKEN}
    accounting: {system: xero, tenant_id: t-2, client_id: env:A, client_secret: env:B, refresh_token: env:C}
""")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LEDGERLINK_HOME": str(tmp_path), "LEDGERLINK_TENANTS": str(tenants),
           "ACME_SLACK_TOKEN": "xoxb-acme", "ACME_SLACK_SECRET": "acme-signing-secret"}
    env.pop("LEDGERLINK_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "ledgerlink.cli", "slack", "serve", "--tenant", "acme",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/slack/interactivity", content=b"payload=%7B%7D",
                                    headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                             "X-Slack-Signature": "v0=" + "0" * 64}, timeout=5)
                break
            except httpx.ConnectError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.2)
        assert (answer.status_code, answer.text) == (401, "invalid request signature")
    finally:
        server.terminate()
        server.wait(10)

    no_slack = subprocess.run([sys.executable, "-m", "ledgerlink.cli", "slack", "serve", "--tenant", "karoo"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert no_slack.returncode == 2 and no_slack.stderr.startswith("ledgerlink: tenant karoo has no slack: section")
    listed = subprocess.run([sys.executable, "-m", "ledgerlink.cli", "approvals", "list", "--status", "all"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and listed.stderr.strip() == "0 request(s)"
