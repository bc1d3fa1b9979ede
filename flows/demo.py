"""`ledgerlink demo`: the whole spine on one laptop — HubSpot and Xero sandboxes on loopback seeded
with a South African SME's dummy books, the SQLite store, a local Prefect, one real run.

The sandboxes keep their state in the data folder between demos, so running the demo again shows
what a second run does: nothing twice.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import yaml

from ledgerlink import settings

DEMO_TENANT = "demo"


def _say(text: str) -> None:
    print(text, flush=True)


def demo_tenants_file(home: Path, sandboxes, rate_limits: bool = True) -> Path:
    """A tenants file pointing at the running sandboxes (credentials by env reference, as for real)."""
    os.environ["LEDGERLINK_DEMO_HUBSPOT_TOKEN"] = sandboxes.hubspot_token
    os.environ["LEDGERLINK_DEMO_XERO_CLIENT_ID"] = sandboxes.xero_client_id
    os.environ["LEDGERLINK_DEMO_XERO_CLIENT_SECRET"] = sandboxes.xero_client_secret
    os.environ["LEDGERLINK_DEMO_XERO_REFRESH_TOKEN"] = sandboxes.xero_refresh_token
    tenants = {"tenants": {DEMO_TENANT: {
        "crm": {"system": "hubspot", "base_url": sandboxes.hubspot_url, "token": "env:LEDGERLINK_DEMO_HUBSPOT_TOKEN"},
        "accounting": {
            "system": "xero", "base_url": sandboxes.xero_url, "token_url": sandboxes.xero_url + "/connect/token",
            "tenant_id": sandboxes.xero_tenant_id, "client_id": "env:LEDGERLINK_DEMO_XERO_CLIENT_ID",
            "client_secret": "env:LEDGERLINK_DEMO_XERO_CLIENT_SECRET",
            "refresh_token": "env:LEDGERLINK_DEMO_XERO_REFRESH_TOKEN"},
        "currencies": ["ZAR", "USD"],
        "timezone": "Africa/Johannesburg",
        "handoffs": ["won-deal-to-invoice"],
        "rate_limits": rate_limits,
    }}}
    path = home / "demo-tenants.yaml"
    path.write_text("# written by `ledgerlink demo` for the sandboxes it started\n" + yaml.safe_dump(tenants, sort_keys=False))
    os.environ["LEDGERLINK_TENANTS"] = str(path)
    return path


def reset_demo_data(home: Path) -> None:
    for name in ("sandbox-state.json", "ledgerlink.db", "ledgerlink.db-wal", "ledgerlink.db-shm", "demo-tenants.yaml"):
        (home / name).unlink(missing_ok=True)
    shutil.rmtree(home / "reports", ignore_errors=True)


def run_demo(*, reset: bool = False, deals: int = 60, limits: bool = True) -> dict:
    started = time.monotonic()
    home = settings.home()
    if reset:
        reset_demo_data(home)
    from connectors.sandbox import start_sandboxes

    state = home / "sandbox-state.json"
    first = not state.exists()
    _say(f"ledgerlink demo · data folder {home}")
    _say(("  seeding" if first else "  reusing") + f" HubSpot + Xero sandboxes ({state.name}) …")
    sandboxes = start_sandboxes(state_path=state, limits=limits, seed=42 if first else None, deals=deals)
    try:
        _say(f"  HubSpot sandbox {sandboxes.hubspot_url}   Xero sandbox {sandboxes.xero_url}")
        demo_tenants_file(home, sandboxes, rate_limits=limits)
        _say(f"  store {settings.database_url()}")
        where = os.environ.get("PREFECT_API_URL") or "a temporary local Prefect server (set PREFECT_API_URL for the UI)"
        _say(f"  starting the flow on {where} … ({time.monotonic() - started:.1f}s)")
        from flows.won_deal_to_invoice import won_deal_to_invoice
        from ledgerlink.report import RunReport

        result = won_deal_to_invoice(tenant=DEMO_TENANT)
        _say("")
        _say(RunReport(**result).text())
        _say("")
        _say("next: `ledgerlink exceptions list` · `ledgerlink audit --invoice INV-0001` · "
             "run `ledgerlink demo` again: nothing is created twice")
        return result
    finally:
        sandboxes.stop()
        sys.stdout.flush()
