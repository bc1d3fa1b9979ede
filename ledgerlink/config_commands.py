"""`ledgerlink config check` and `ledgerlink config history`: what the terminal shows of
configuration versions (ledgerlink.config_versions, ledgerlink.config_check)."""

from __future__ import annotations

import json

from ledgerlink.config_versions import ConfigVersions, versions_for
from ledgerlink.spec import SpecError
from ledgerlink.tenants import Tenant, TenantError, load_tenants, tenants_path
from ledgerlink.timestamps import as_utc


def cmd_config(args, store, user_error) -> int:
    """`user_error`: the exception type the CLI prints as one line (commands.UserError)."""
    if args.action == "check":
        return _check(args, store, user_error)
    return _history(args, store, user_error)


def _check(args, store, user_error) -> int:
    from prefect.settings import PREFECT_API_URL

    from ledgerlink.config_check import check_config

    try:
        tenants = load_tenants(tenants_path())
        checks = check_config(tenants, store, tenant=args.tenant, handoff=args.handoff,
                              prefect_api_url=PREFECT_API_URL.value())
    except (TenantError, KeyError) as err:
        raise user_error(str(err).strip("'\"")) from None
    current = None
    for check in checks:
        if check.tenant != current:
            current = check.tenant
            tenant = tenants[current]
            print(f"tenant {current} ({tenant.crm.system} + {tenant.accounting.system})")
        name = check.versions.handoff if check.versions else check.handoff
        version = check.versions.id if check.versions else "-" * 12
        if not check.passed:
            outcome = f"FAILED: {check.problem}"
        elif check.already_checked:
            outcome = "already checked"
        else:
            outcome = "checked · dry run: " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in check.planned.items())
        print(f"  {name:<30} {version}  {outcome}")
    failed = sum(not check.passed for check in checks)
    print(f"{len(checks) - failed} of {len(checks)} handoff configuration(s) passed")
    return 1 if failed else 0


def _history(args, store, user_error) -> int:
    rows = store.config_history.handoff_versions(args.tenant, args.handoff)
    if not rows:
        print("no configuration versions recorded yet (a run or `ledgerlink config check` records them)")
        return 0
    in_effect = _in_effect({(row.tenant, row.name) for row in rows})
    listed = {(row.tenant, row.name, row.hash) for row in rows}
    for index, row in enumerate(rows):
        group = (row.tenant, row.name)
        now = in_effect.get(group)
        if index == 0 or (rows[index - 1].tenant, rows[index - 1].name) != group:
            unseen = " (neither used nor checked yet)" if now and (*group, now) not in listed else ""
            print(f"tenant {row.tenant} · {row.name}" + (f" · in effect now: {now}{unseen}" if now else ""))
        checked = f"checked {_when(row.checked_at)}" if row.checked_at else "NOT CHECKED"
        first = f"first used {_when(row.first_used_at)}" if row.first_used_at else "not used yet"
        print(f"  {'*' if now == row.hash else ' '} {row.hash}  {first:<36} {checked}")
        older = rows[index + 1] if index + 1 < len(rows) and (rows[index + 1].tenant, rows[index + 1].name) == group \
            else None
        for line in _part_lines(json.loads(row.content), json.loads(older.content) if older else None):
            print(f"      {line}")
    print("* = in effect now (the files as they are)")
    return 0


def _part_lines(parts: dict, older: dict | None) -> list[str]:
    """Every part of the oldest version; for the others, what changed since the version before."""
    lines = []
    for kind, names in parts.items():
        for name, digest in names.items():
            before = (older or {}).get(kind, {}).get(name)
            if older is None:
                lines.append(f"{kind} {name} {digest[:12]}")
            elif before != digest:
                lines.append(f"changed: {kind} {name} {digest[:12]}" + (f" (was {before[:12]})" if before else " (new)"))
    for kind, names in (older or {}).items():
        lines += [f"changed: {kind} {name} no longer used" for name in names if name not in parts.get(kind, {})]
    return lines


def _in_effect(groups: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(tenant, handoff) -> the combined id the files give now; skipped when they cannot be read."""
    try:
        tenants = load_tenants(tenants_path())
    except TenantError:
        return {}
    found = {}
    for tenant_name, handoff in groups:
        tenant: Tenant | None = tenants.get(tenant_name)
        if tenant is None:
            continue
        try:
            versions: ConfigVersions = versions_for(tenant, handoff)
        except SpecError:
            continue
        found[(tenant_name, handoff)] = versions.id
    return found


def _when(moment) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M:%S} UTC"
