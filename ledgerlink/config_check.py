"""`ledgerlink config check`: try configuration before it takes effect.

For each tenant and handoff: validate the spec with the tenant's overrides, the specs it also uses,
its mapping for the tenant's CRM and invoice rules for its accounting system, and every suite it
gates with (built as GX builds it). A version not checked before is then run as a dry run
(ledgerlink.config_dry_run) against freshly seeded sandboxes of the tenant's own CRM and
accounting systems, and — when it completes with the very version validated — recorded as checked
with what it would do. `require_checked_config` tenants run only checked versions (tasks.run_record).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ledgerlink.config_versions import CUSTOMER_HANDOFF, ConfigVersions, versions_for
from ledgerlink.spec import SpecError, load_spec
from ledgerlink.tenants import Tenant

PIPELINE = ("contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm", "reconciliation")
DRY_RUN_TIMEOUT_S = 900


@dataclass
class HandoffCheck:
    """The outcome of checking one tenant's handoff."""

    tenant: str
    handoff: str  # as asked for: a handoff name, or the path of a declared spec
    versions: ConfigVersions | None = None
    problem: str | None = None  # one readable line: why it did not pass
    already_checked: bool = False
    planned: dict[str, int] = field(default_factory=dict)  # what the dry run would do

    @property
    def passed(self) -> bool:
        return self.problem is None


def handoffs_of(tenant: Tenant) -> list[str]:
    """The tenant's handoffs in the order they feed each other, the nightly reconciliation last."""
    return [h for h in PIPELINE if h in tenant.handoffs or h == "reconciliation"]


def check_config(tenants: dict[str, Tenant], store, *, tenant: str | None = None, handoff: str | None = None,
                 deals: int = 60, prefect_api_url: str | None = None) -> list[HandoffCheck]:
    """Check the chosen tenants' handoffs (all of them by default); `store` keeps what passed.

    `prefect_api_url`: the Prefect server the dry-run flows report to (the caller's own; runs are
    tagged `config-check`), or None for a temporary server of their own."""
    if tenant is not None and tenant not in tenants:
        raise KeyError(f"unknown tenant {tenant!r} (known: {', '.join(sorted(tenants)) or 'none'})")
    checks: list[HandoffCheck] = []
    for chosen in [tenants[tenant]] if tenant else list(tenants.values()):
        mine = [validate(chosen, name) for name in ([handoff] if handoff else handoffs_of(chosen))]
        for check in mine:
            check.already_checked = check.passed and store.config_history.is_checked(check.versions)
        due = [check for check in mine if check.passed and not check.already_checked]
        if due:
            _dry_run(chosen, due, store, deals, prefect_api_url)
        checks += mine
    return checks


def validate(tenant: Tenant, handoff: str) -> HandoffCheck:
    """Everything that can be checked without running: specs, mappings, invoice rules, suites."""
    from expectations.errors import SuiteError
    from expectations.suite_loader import load_suite

    check = HandoffCheck(tenant.name, handoff)
    try:
        check.versions = versions_for(tenant, handoff)
        spec = load_spec(handoff, tenant.spec_overrides(handoff))
        gated = [spec]  # the specs whose suites gate records in this run
        if spec.kind == "create-invoices":
            spec.mapping_for(tenant.crm.system)
            spec.invoice.for_system(tenant.accounting.system)
            gated.append(load_spec(CUSTOMER_HANDOFF, tenant.spec_overrides(CUSTOMER_HANDOFF)))
        if spec.kind == "reconcile":  # the specs it compares, loaded as flows/reconciliation.py loads them
            load_spec(spec.invoices_from).mapping_for(tenant.crm.system)
            load_spec(spec.payments_from)
        for each in gated:
            if each.kind == "sync-customers":
                each.fields_for(tenant.crm.system)
            if each.expectations_path is not None:
                load_suite(each.expectations_path)
    except (SpecError, SuiteError) as error:
        check.problem = str(error)
    except KeyError as error:  # a customer spec without a mapping for the tenant's CRM
        check.problem = str(error).strip("'\"")
    return check


def _dry_run(tenant: Tenant, due: list[HandoffCheck], store, deals: int, prefect_api_url: str | None) -> None:
    names = [check.handoff for check in due]
    last = max((PIPELINE.index(name) for name in names if name in PIPELINE), default=-1)
    order = [h for h in PIPELINE[:last + 1] if h in tenant.handoffs or h in names]
    order += [name for name in names if name not in PIPELINE]
    try:
        results = run_dry(tenant, order, deals, prefect_api_url)
    except DryRunFailed as error:
        for check in due:
            check.problem = f"dry run failed: {error}"
        return
    sandboxes = f"{tenant.crm.system} + {tenant.accounting.system} sandboxes, seed 42, {deals} deals"
    for check in due:
        result = results.get(check.handoff) or {"status": "failed", "error": "it did not run"}
        if result["status"] != "completed":
            check.problem = f"dry run failed: {result.get('error') or result['status']}"
        elif result.get("config_version") != check.versions.id:
            check.problem = (f"the configuration changed during the check (ran {result.get('config_version')}, "
                             f"validated {check.versions.id}); run the check again")
        else:
            check.planned = result["planned"]
            store.config_history.record_check(check.versions, {"dry_run": check.planned, "against": sandboxes,
                                                               "ran": order})


class DryRunFailed(RuntimeError):
    """The dry run itself could not run (not: a handoff in it failed)."""


def run_dry(tenant: Tenant, handoffs: list[str], deals: int, prefect_api_url: str | None) -> dict[str, dict]:
    """Run `handoffs` in a child process against sandboxes and a store that exist only meanwhile."""
    with tempfile.TemporaryDirectory(prefix="ledgerlink-config-check-") as folder:
        scratch = Path(folder)
        request = {"tenant": tenant.name, "crm": tenant.crm.system, "accounting": tenant.accounting.system,
                   "deals": deals, "handoffs": handoffs,
                   "settings": tenant.model_dump(mode="json", include={"currencies", "timezone", "handoffs",
                                                                       "overrides"})}
        (scratch / "request.json").write_text(json.dumps(request), encoding="utf-8")
        try:
            done = subprocess.run([sys.executable, "-m", "ledgerlink.config_dry_run", str(scratch)],
                                  env=_child_environment(scratch, prefect_api_url), capture_output=True, text=True,
                                  timeout=DRY_RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise DryRunFailed(f"no result within {DRY_RUN_TIMEOUT_S} s") from None
        result = scratch / "result.json"
        if done.returncode != 0 or not result.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DryRunFailed(f"exit code {done.returncode}: {last[:300]}")
        return json.loads(result.read_text(encoding="utf-8"))


def _child_environment(scratch: Path, prefect_api_url: str | None) -> dict[str, str]:
    env = {**os.environ, "LEDGERLINK_HOME": str(scratch), "LEDGERLINK_TENANTS": str(scratch / "tenants.yaml"),
           "LEDGERLINK_DATABASE_URL": f"sqlite:///{scratch / 'store.db'}",
           "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING")}
    if prefect_api_url:
        env["PREFECT_API_URL"] = prefect_api_url
    else:  # a temporary Prefect server whose database goes with the scratch folder
        env.pop("PREFECT_API_URL", None)
        env["PREFECT_HOME"] = str(scratch / "prefect")
    return env
