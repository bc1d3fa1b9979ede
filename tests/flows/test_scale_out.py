"""Scale-out on Prefect itself, as documented: a Prefect server on PostgreSQL, two process workers,
the store on PostgreSQL, and two runs of the same handoff for the same tenant at once.

800 seeded deals (about 400 won and clean): every one is invoiced exactly once (write intents and
the store's unique links), and with `shared_limits` the sandboxes, which refuse any call over the
vendor's real budget, never had to refuse one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REPO = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def topology(tmp_path):
    """A Prefect server on its own PostgreSQL database, the store in its own schema; both dropped after."""
    database, schema = f"prefect_{uuid.uuid4().hex[:10]}", f"store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_UI_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING", "LEDGERLINK_HOME": str(tmp_path),
           "LEDGERLINK_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/test"
                                      f"?options=-csearch_path%3D{schema}"}
    processes = [subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=open(tmp_path / "server.log", "w"),
                                  stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 90
        while not _healthy(port):
            assert processes[0].poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        yield env, processes, tmp_path
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _prefect(env, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "prefect", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_two_workers_on_postgresql_invoice_every_deal_once_inside_the_vendor_budget(topology, monkeypatch):
    from connectors.sandbox import start_sandboxes
    from flows.demo import demo_tenants_file

    env, processes, home = topology
    for name in ("LEDGERLINK_TENANTS", "LEDGERLINK_DEMO_HUBSPOT_TOKEN", "LEDGERLINK_DEMO_XERO_CLIENT_ID",
                 "LEDGERLINK_DEMO_XERO_CLIENT_SECRET", "LEDGERLINK_DEMO_XERO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # demo_tenants_file sets these; they go when the test ends
    sandboxes = start_sandboxes(seed=5, limits=True, deals=800)  # the vendors' real budgets
    try:
        tenants = demo_tenants_file(home, sandboxes, rate_limits=True)
        data = yaml.safe_load(tenants.read_text())
        data["tenants"]["demo"]["shared_limits"] = True  # the budget is the tenant's, not each worker's
        tenants.write_text(yaml.safe_dump(data))
        env = {**env, **{k: v for k, v in os.environ.items() if k.startswith("LEDGERLINK_DEMO_")},
               "LEDGERLINK_TENANTS": str(tenants)}
        _prefect(env, "work-pool", "create", "ledgerlink-process", "--type", "process")
        deploy = ("from flows.won_deal_to_invoice import won_deal_to_invoice as f\n"
                  f"f.from_source(source={str(REPO)!r}, entrypoint='flows/won_deal_to_invoice.py:won_deal_to_invoice')"
                  ".deploy(name='scale-out', work_pool_name='ledgerlink-process', parameters={'tenant': 'demo'}, "
                  "build=False, push=False, print_next_steps=False)")
        subprocess.run([sys.executable, "-c", deploy], env=env, cwd=REPO, check=True, capture_output=True, timeout=120)
        for name in ("worker-a", "worker-b"):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", "ledgerlink-process", "--type", "process",
                 "--name", name, "--limit", "1"], env=env, cwd=REPO, stdout=open(home / f"{name}.log", "w"),
                stderr=subprocess.STDOUT))
        for _ in range(2):  # the same handoff for the same tenant, twice at once
            _prefect(env, "deployment", "run", "won-deal-to-invoice/scale-out")

        runs = _wait_for_runs(env["PREFECT_API_URL"], count=2, timeout=420)

        assert [run.state_name for run in runs] == ["Completed", "Completed"]
        first, second = sorted(runs, key=lambda run: run.start_time)
        assert second.start_time < first.end_time  # they really ran at the same time, one per worker
        eligible = [str(d.id) for d in sandboxes.hubspot.deals.objects.values()
                    if d.props.get("dealstage") == "closedwon" and not d.props.get("ll_seed_defect")]
        references: dict[str, int] = {}
        for invoice in sandboxes.xero.default_books.invoices.values():
            if invoice.get("Type") == "ACCREC":
                references[invoice.get("Reference")] = references.get(invoice.get("Reference"), 0) + 1
        assert len(eligible) > 350
        assert all(references.get(f"DEAL-{deal_id}") == 1 for deal_id in eligible)  # once each, none missing
        assert sandboxes.xero.stats.snapshot()["rate_limited"] == 0
        assert sandboxes.hubspot.stats.snapshot()["rate_limited"] == 0
    finally:
        sandboxes.stop()


def _wait_for_runs(api_url: str, count: int, timeout: float):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        while True:
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs()
            if len(runs) >= count and all(run.state and run.state.is_final() for run in runs):
                return runs
            assert time.monotonic() < deadline, [run.state_name for run in runs]
            time.sleep(2)
