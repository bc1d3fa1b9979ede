"""`ledgerlink snapshot`: read everything ledgerlink may touch on both sides into a snapshot folder.

Before go-live a business wants a copy of its CRM and accounting records as they were, so that a
bad first run can be seen (`ledgerlink snapshot diff`) and undone. The read goes through the same
connector protocols the handoffs use — delta reads from the beginning, page by page, and batch
reads for line items (never one GET per record) — so it works for every CRM with every accounting
system, respects the vendors' rate limits, and holds one page in memory at a time. It writes
nothing to either system and nothing to the store, except the OAuth refresh token an accounting
system rotates: that must reach the real store, or the tenant's connection would be lost.

Plain functions, no Prefect: a snapshot is taken by a person at a terminal, once, before go-live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledgerlink import __version__
from ledgerlink.settings import home
from ledgerlink.snapshot_files import (SnapshotWriter, default_folder, private_dir, utc_now, utc_text)
from ledgerlink.snapshot_scope import SnapshotScope, snapshot_scope
from ledgerlink.store import Store, open_store
from ledgerlink.tenants import Tenant, TenantError, load_tenants, tenants_path
from tasks.connect import accounting_connector, crm_connector

log = logging.getLogger("ledgerlink.snapshot")
CRM_PAGE = 200  # the largest page every CRM's delta read allows
ACCOUNTING_READS = {"contacts": "contacts_modified_since", "invoices": "invoices_modified_since",
                    "payments": "payments_modified_since", "credit_notes": "credit_notes_modified_since"}
Progress = Callable[[str, int], None]  # (object type, records written so far)


@dataclass(frozen=True)
class SnapshotResult:
    folder: Path
    tenant: str
    systems: tuple[str, str]
    counts: dict[str, int]


def snapshots_folder() -> Path:
    return private_dir(home() / "snapshots")


def find_tenant(name: str, tenants: dict[str, Tenant] | None = None) -> Tenant:
    tenants = tenants if tenants is not None else load_tenants(tenants_path())
    if name not in tenants:
        raise TenantError(f"unknown tenant {name!r} in {tenants_path()} "
                          f"(known: {', '.join(sorted(tenants)) or 'none'})")
    return tenants[name]


def take_snapshot(tenant: Tenant, out: Path | None = None, *, store: Store | None = None,
                  progress: Progress | None = None) -> SnapshotResult:
    """Export the tenant's records to `out` (default `<home>/snapshots/<tenant>-<UTC time>`)."""
    scope = snapshot_scope(tenant)  # a spec problem stops us before any call
    started = utc_now()
    folder = Path(out) if out is not None else default_folder(snapshots_folder(), tenant.name, started)
    writer = SnapshotWriter(folder)
    crm = accounting = None
    own_store = store is None
    try:
        store = open_store() if own_store else store
        crm = crm_connector(tenant)
        accounting = accounting_connector(tenant, store)  # rotated tokens go to the real store
        _share_limits(tenant, crm, accounting)
        report = progress or (lambda _object, _count: None)
        _read_crm(crm, scope, writer, report)
        _read_accounting(accounting, writer, report)
        systems = {"crm": tenant.crm.system, "accounting": tenant.accounting.system}
        manifest = {"tenant": tenant.name, "systems": systems,
                    "ledgerlink_version": __version__, "started_at": utc_text(started),
                    "finished_at": utc_text(utc_now()),
                    "api_calls": {"crm": crm.stats.snapshot()["per_endpoint"],
                                  "accounting": accounting.stats.snapshot()["per_endpoint"]}}
        details = {name: {"properties": props, "change_time": crm.modified_property(name)}
                   for name, props in scope.properties.items()}
        for name, personal in scope.personal.items():
            details.setdefault(name, {})["personal_fields"] = personal
        counts = writer.counts()
        writer.finish(manifest, details)
    except BaseException:
        writer.abort()
        raise
    finally:
        for connector in (crm, accounting):
            if connector is not None:
                connector.close()
        if own_store and store is not None:
            store.dispose()
    log.info("snapshot of tenant %s: %s", tenant.name, counts)  # counts only: no personal data in logs
    return SnapshotResult(folder, tenant.name, (tenant.crm.system, tenant.accounting.system), counts)


def _share_limits(tenant: Tenant, crm: Any, accounting: Any) -> None:
    """With several workers the tenant's vendor budgets are shared (as for a handoff run), so a
    snapshot taken while handoffs run never pushes them over the vendor's limits."""
    if tenant.rate_limits and tenant.shared_limits:
        from connectors.shared_limits import share_across_workers

        for connector in (crm, accounting):
            share_across_workers(connector.http)


def crm_record(record: dict, keep: list[str]) -> dict[str, Any]:
    """A CRM record cut down to what ledgerlink reads or writes (a Pipedrive read returns every
    field; a backup keeps only what a purpose needs), each named property present, unset = null."""
    properties = record.get("properties") or {}
    return {"id": str(record["id"]), "properties": {name: properties.get(name) for name in keep}}


def _read_crm(crm: Any, scope: SnapshotScope, writer: SnapshotWriter, report: Progress) -> None:
    keep = {name: sorted({*props, crm.modified_property(name)}) for name, props in scope.properties.items()}
    for page in crm.search_modified_since("companies", 0, scope.properties["companies"], page_size=CRM_PAGE):
        writer.write("companies", (crm_record(r, keep["companies"]) for r in page))
        report("companies", writer.outputs["companies"].count)
    for page in crm.search_modified_since("deals", 0, scope.properties["deals"], page_size=CRM_PAGE):
        writer.write("deals", (crm_record(r, keep["deals"]) for r in page))
        report("deals", writer.outputs["deals"].count)
        _read_lines(crm, [str(r["id"]) for r in page], scope, keep["line_items"], writer)
        report("line_items", writer.outputs["line_items"].count)


def _read_lines(crm: Any, deal_ids: list[str], scope: SnapshotScope, keep: list[str],
                writer: SnapshotWriter) -> None:
    """The line items of one page of deals: one association read, then batch reads."""
    owners: dict[str, str] = {}  # line item id -> its deal, in the deals' own line order
    for deal_id, line_ids in crm.read_associations("deals", "line_items", deal_ids).items():
        for line_id in line_ids:
            owners.setdefault(str(line_id), deal_id)
    if not owners:
        return
    found = crm.batch_read("line_items", list(owners), scope.properties["line_items"])
    writer.write("line_items", ({**crm_record(found[line_id], keep), "deal_id": deal_id}
                                for line_id, deal_id in owners.items() if line_id in found))
    if getattr(found, "missing", None):
        log.warning("%d line item(s) associated with deals could not be read", len(found.missing))


def _read_accounting(accounting: Any, writer: SnapshotWriter, report: Progress) -> None:
    for object_type, method in ACCOUNTING_READS.items():
        for page in getattr(accounting, method)(None):
            writer.write(object_type, page)
            report(object_type, writer.outputs[object_type].count)
