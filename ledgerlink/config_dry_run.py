"""The dry run of `ledgerlink config check`, run as `python -m ledgerlink.config_dry_run <scratch>`.

It runs a tenant's handoffs, with the tenant's own configuration, against a seeded sandbox pair of
the tenant's CRM and accounting systems and a throw-away store, and writes what they would do to
`<scratch>/result.json`. It is a child process on purpose: the flows find their store, tenants
file and data folder through the environment, and a review rule's approval run outlives the flow
in a thread of the process — in a child, none of that can reach the real store, and it all ends
with the child.

`<scratch>/request.json` (written by ledgerlink.config_check) says which tenant settings, which
sandboxes and which handoffs, in order: a handoff needs the ones before it (payments need the
invoices the won deals became).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import yaml

# The handoff flows run for real against the throw-away sandboxes and store (nothing real is
# written), not with `dry_run=True`: a check must exercise the writes too (a vendor refusing a
# payload is what it is for), and each handoff needs what the one before it made (payments need
# the invoices the won deals became). The reconciliation runs as it is, its safe fixes landing in
# the sandboxes.

FLOWS = {
    "contact-to-accounting-contact": ("flows.contact_to_accounting_contact", "contact_to_accounting_contact"),
    "won-deal-to-invoice": ("flows.won_deal_to_invoice", "won_deal_to_invoice"),
    "payment-to-crm": ("flows.linked_update", "payment_to_crm"),
    "reconciliation": ("flows.reconciliation", "reconciliation"),
}
UPDATES = ("records_updated", "customers_updated", "written_back", "customers_written_back")


def main(argv: list[str]) -> int:
    scratch = Path(argv[0])
    request = json.loads((scratch / "request.json").read_text(encoding="utf-8"))
    from connectors.sandbox.pairs import start_pair

    pair = start_pair(request["crm"], request["accounting"], seed=42, limits=False, deals=request["deals"])
    try:
        write_tenants_file(Path(os.environ["LEDGERLINK_TENANTS"]), pair, request)
        results = {handoff: run_one(handoff, request["tenant"]) for handoff in request["handoffs"]}
        cancel_waiting_approvals(request["tenant"])
    finally:
        pair.stop(save=False)
    versions = versions_used(request["tenant"])
    for handoff, result in results.items():
        result["config_version"] = versions.get(result.pop("name", handoff))
    (scratch / "result.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def write_tenants_file(path: Path, pair, request: dict) -> None:
    """The tenant as configured (overrides, currencies, handoffs…), wired to the sandboxes instead."""
    name = request["tenant"]
    crm, accounting, secrets = pair.tenant_connections(f"LEDGERLINK_CHECK_{name.upper().replace('-', '_')}")
    os.environ.update(secrets)
    body = {**request["settings"], "crm": crm, "accounting": accounting, "rate_limits": False}
    path.write_text(yaml.safe_dump({"tenants": {name: body}}, sort_keys=False), encoding="utf-8")


def run_one(handoff: str, tenant: str) -> dict:
    """One handoff's flow; its outcome as counts a person reads: creates, updates, exceptions."""
    from prefect import tags

    if handoff in FLOWS:
        module, attribute = FLOWS[handoff]
        flow = getattr(importlib.import_module(module), attribute)
        arguments = {}
    else:  # a declared update-linked spec, by path
        from flows.linked_update import declared_handoff

        flow, arguments = declared_handoff, {"handoff": handoff}
    try:
        with tags("config-check", f"tenant:{tenant}"):
            result = flow(tenant=tenant, **arguments)
    except Exception as error:  # the check reports it; the flow run's logs keep the detail
        return {"status": "failed", "error": " ".join(f"{type(error).__name__}: {error}".split())[:500]}
    return {"status": result.get("status", "completed"), "name": result.get("handoff", handoff),
            "planned": planned(result)}


def planned(result: dict) -> dict[str, int]:
    counts = result.get("counts") or {}
    if "fixed" in result:  # the reconciliation: what it finds, and what it would fix
        return {"discrepancies": sum(counts.values()), "fixes": sum((result.get("fixed") or {}).values())}
    return {"creates": counts.get("invoices_created", 0) + counts.get("customers_created", 0),
            "updates": sum(counts.get(key, 0) for key in UPDATES),
            "exceptions": counts.get("exceptions", 0),
            "held_for_review": counts.get("review_requested", 0)}


def versions_used(tenant: str) -> dict[str, str | None]:
    """handoff -> the configuration version its run recorded (in the throw-away store)."""
    from ledgerlink.store import open_store

    store = open_store()
    try:
        return {run.handoff: run.config_version for run in reversed(store.runs.recent(tenant, limit=100))}
    finally:
        store.dispose()


def cancel_waiting_approvals(tenant: str) -> None:
    """A dry run decides nothing: approval runs a review rule started are cancelled, not left paused."""
    from ledgerlink.store import open_store
    from tasks.approval_runs import cancel_approval_run, wait_for_local_approvals

    wait_for_local_approvals(timeout=1)
    store = open_store()
    try:
        for request in store.approvals.list(tenant, status="pending"):
            cancel_approval_run(request, "config check dry run: nothing is decided")
    finally:
        store.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
