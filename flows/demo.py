"""`ledgerlink demo`: all three handoffs on one laptop — a CRM sandbox (HubSpot or Pipedrive) and an
accounting sandbox (Xero or QuickBooks Online) on loopback, seeded with a South African SME's dummy
books, the SQLite store, a local Prefect, real runs.

The sandboxes keep their state in the data folder between demos, so running the demo again shows
what a second run does: nothing twice.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml

from ledgerlink import settings

DEMO_TENANT = "demo"


def _say(text: str) -> None:
    print(text, flush=True)


def demo_tenant_name(crm: str, accounting: str) -> str:
    """`demo` for HubSpot + Xero; each other pair is its own tenant, so their links never mix."""
    return DEMO_TENANT if (crm, accounting) == ("hubspot", "xero") else f"{DEMO_TENANT}-{crm}-{accounting}"


def demo_tenants_file(home: Path, sandboxes, rate_limits: bool = True, slack: dict | None = None,
                      tenant: str | None = None, overrides: dict | None = None) -> Path:
    """A tenants file pointing at the running sandboxes (a `SandboxPair`, or HubSpot + Xero
    `Sandboxes`), credentials by env reference as for real; `slack` is the tenant's slack: section
    when approvals should reach a (fake) Slack; `overrides` the tenant's spec overrides."""
    pair = sandboxes.as_pair() if hasattr(sandboxes, "as_pair") else sandboxes
    name = tenant or demo_tenant_name(*pair.systems)
    crm, accounting, secrets = pair.tenant_connections(f"LEDGERLINK_{name.upper().replace('-', '_')}")
    os.environ.update(secrets)
    tenants = {"tenants": {name: {
        "crm": crm,
        "accounting": accounting,
        "currencies": ["ZAR", "USD"],
        "timezone": "Africa/Johannesburg",
        "handoffs": ["contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm"],
        "rate_limits": rate_limits,
        **({"slack": slack} if slack else {}),
        **({"overrides": overrides} if overrides else {}),
    }}}
    path = home / "demo-tenants.yaml"
    path.write_text("# written by `ledgerlink demo` for the sandboxes it started\n" + yaml.safe_dump(tenants, sort_keys=False))
    os.environ["LEDGERLINK_TENANTS"] = str(path)
    return path


def reset_demo_data(home: Path) -> None:
    for name in ("ledgerlink.db", "ledgerlink.db-wal", "ledgerlink.db-shm", "demo-tenants.yaml"):
        (home / name).unlink(missing_ok=True)
    for state in home.glob("sandbox-*.json"):
        state.unlink()
    shutil.rmtree(home / "reports", ignore_errors=True)


def simulate_payments(pair, invoice_numbers: list[str]) -> list[str]:
    """Customers pay in the accounting sandbox: one in full, a 50% deposit, a part payment, a credit note."""
    books = pair.accounting
    done = []
    plans = [("paid in full", Decimal(1)), ("50% deposit", Decimal("0.5")), ("part payment", Decimal("0.2")),
             ("credit note", Decimal("0.1"))]
    for number, (what, share) in zip(invoice_numbers, plans):
        currency, due = books.invoice(number)
        amount = (due * share).quantize(Decimal("0.01"))
        (books.credit if what == "credit note" else books.pay)(number, amount, date.today())
        done.append(f"{number}: {what} ({currency} {amount:,.2f})")
    return done


def run_demo(*, reset: bool = False, deals: int = 60, limits: bool = True, crm: str = "hubspot",
             accounting: str = "xero") -> dict:
    """Contacts → won deals → invoices → (customers pay) → payment status back on the deals →
    the nightly reconciliation, on any CRM sandbox with any accounting sandbox."""
    started = time.monotonic()
    # The demo prints each run's report itself; Prefect's console log would print every one twice.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    home = settings.home()
    if reset:
        reset_demo_data(home)
    from connectors.sandbox.pairs import start_pair

    state = home / f"sandbox-{crm}-{accounting}.json"
    first = not state.exists()
    tenant = demo_tenant_name(crm, accounting)
    _say(f"ledgerlink demo · data folder {home} · tenant {tenant}")
    _say(("  seeding" if first else "  reusing") + f" {crm} + {accounting} sandboxes ({state.name}) …")
    sandboxes = start_pair(crm, accounting, state_path=state, limits=limits, seed=42 if first else None, deals=deals)
    try:
        _say(f"  {crm} sandbox {sandboxes.crm.url}   {accounting} sandbox {sandboxes.accounting.url}")
        demo_tenants_file(home, sandboxes, rate_limits=limits)
        _say(f"  store {settings.database_url()}")
        where = os.environ.get("PREFECT_API_URL") or "a temporary local Prefect server (set PREFECT_API_URL for the UI)"
        _say(f"  starting the flows on {where} … ({time.monotonic() - started:.1f}s)")
        from flows.contact_to_accounting_contact import contact_to_accounting_contact
        from flows.linked_update import payment_to_crm
        from flows.won_deal_to_invoice import won_deal_to_invoice
        from ledgerlink.report import RunReport

        runs = []
        for step, run in (("1/3 customers", contact_to_accounting_contact), ("2/3 won deals", won_deal_to_invoice)):
            _say(f"\n== {step} ==")
            runs.append(run(tenant=tenant))
            _say(RunReport(**runs[-1]).text())
        paid = simulate_payments(sandboxes, [c["invoice"] for c in runs[-1]["created"]]) if first else []
        if paid:
            _say(f"\n== customers pay (simulated in the {accounting} sandbox) ==\n  " + "\n  ".join(paid))
        _say("\n== 3/3 payment status → CRM ==")
        runs.append(payment_to_crm(tenant=tenant))
        _say(RunReport(**runs[-1]).text())
        from flows.reconciliation import reconciliation

        _say("\n== and at night: reconciliation ==")
        recon = reconciliation(tenant=tenant)
        for cls, count in sorted(recon["counts"].items()):
            _say(f"  {cls:<28} {count:>5}" + (f"  ({recon['fixed'][cls]} fixed)" if recon["fixed"].get(cls) else ""))
        _say(f"  DSO {recon['health'].get('dso_days')} days · report {recon['html']}")
        _say(f"\nnext: `ledgerlink exceptions list --tenant {tenant}` · `ledgerlink audit --tenant {tenant}` · "
             "run the demo again: nothing is created twice")
        status = "completed" if all(r["status"] == "completed" for r in runs) else "failed"
        return {"status": status, "runs": runs}
    finally:
        sandboxes.stop()
        sys.stdout.flush()
