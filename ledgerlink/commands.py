"""What each CLI command does. Errors a user can fix are printed as one line (UserError), not traces."""

from __future__ import annotations

import json
import os
import sys

from ledgerlink.spec import SpecError
from ledgerlink.tenants import TenantError


class UserError(Exception):
    """Something the user can fix; printed as one readable line."""


def _store():
    from ledgerlink.store import open_store

    return open_store()


def cmd_demo(args) -> int:
    from flows.demo import run_demo

    try:
        report = run_demo(reset=args.reset, deals=args.deals, limits=not args.no_limits, crm=args.crm,
                          accounting=args.accounting)
    except (SpecError, TenantError) as err:
        raise UserError(str(err)) from None
    return 0 if report["status"] == "completed" else 1


def cmd_run(args) -> int:
    from ledgerlink.report import RunReport
    from ledgerlink.spec import load_spec
    from ledgerlink.tenants import load_tenants, tenants_path

    try:  # check what the user can fix before starting Prefect
        spec = load_spec(args.handoff)
        tenants = load_tenants(tenants_path())
        if args.tenant not in tenants:
            raise UserError(f"unknown tenant {args.tenant!r} in {tenants_path()} "
                            f"(known: {', '.join(sorted(tenants)) or 'none'})")
        _refuse_unchecked_config(tenants[args.tenant], args.handoff)
        result = _run_flow(spec, args)
    except (SpecError, TenantError, KeyError) as err:
        raise UserError(str(err).strip("'\"")) from None
    print(RunReport(**result).text())
    _wait_for_local_approvals()
    return 0 if result["status"] == "completed" else 1


def _refuse_unchecked_config(tenant, handoff: str) -> None:
    """The flow refuses unchecked configuration itself; saying so here spares starting Prefect for it."""
    from ledgerlink.config_versions import require_checked, versions_for

    if tenant.require_checked_config:
        require_checked(tenant, versions_for(tenant, handoff), _store().config_history)


def _wait_for_local_approvals() -> None:
    """An ad-hoc run's approval runs pause in this process; leaving would orphan them."""
    from tasks.approval_runs import wait_for_local_approvals

    waiting = wait_for_local_approvals(timeout=0)
    if waiting:
        print(f"{waiting} approval run(s) wait for a decision in Slack or the Prefect UI; waiting here "
              "(Ctrl-C stops waiting: decisions made later are applied by the next run)", flush=True)
        wait_for_local_approvals()


def _run_flow(spec, args) -> dict:
    os.environ.setdefault("LEDGERLINK_PROGRESS", "1")  # a bar on this terminal (tasks.progress)
    options = {"dry_run": getattr(args, "dry_run", False)}
    if getattr(args, "since", None) is not None:
        options.update(backfill_since=args.since, backfill_until=args.until)
    if spec.kind == "sync-customers":
        from flows.contact_to_accounting_contact import contact_to_accounting_contact

        return contact_to_accounting_contact(tenant=args.tenant, **options)
    if spec.kind == "create-invoices":
        from flows.won_deal_to_invoice import won_deal_to_invoice

        return won_deal_to_invoice(tenant=args.tenant, max_pages=args.max_pages, **options)
    from flows.linked_update import declared_handoff, payment_to_crm

    if spec.name == "payment-to-crm":
        return payment_to_crm(tenant=args.tenant, **options)
    return declared_handoff(handoff=str(spec.path), tenant=args.tenant, **options)


def cmd_backfill(args) -> int:
    """Historical records in resumable pages on a cursor of their own; rerunning resumes or, when
    finished, finds nothing new to move."""
    if args.until is not None and args.until < args.since:
        raise UserError(f"--until {args.until} is before --since {args.since}")
    return cmd_run(args)


def cmd_exceptions(args) -> int:
    from ledgerlink.store.audit_log import NewAuditEvent
    from ledgerlink.store.tables import ExceptionStatus

    store = _store()
    if args.action == "list":
        return _list_exceptions(store, args)
    ids = getattr(args, "item_ids", None) or [args.item_id]
    items = [store.exceptions.get(item_id) for item_id in ids]
    missing = [f"#{item_id}" for item_id, item in zip(ids, items) if item is None]
    if missing:
        raise UserError(f"no exception item {', '.join(missing)}")
    if args.action == "show":
        [item] = items
        print(json.dumps(item.model_dump(mode="json"), indent=2))
        for event in store.audit.search(item.tenant, **_audit_ids(item)):
            if event.action.startswith("exception."):
                print(f"  {event.at:%Y-%m-%d %H:%M} {event.action:<20} by {event.actor}: {json.dumps(event.after)}")
        return 0
    actor = f"cli:{_user()}"
    if args.action == "assign":
        [item] = items
        store.exceptions.assign(item.id, args.to)
        after = {"item": item.id, "from": item.owner, "to": args.to}
    else:
        status = {"retry": ExceptionStatus.RETRYING, "resolve": ExceptionStatus.RESOLVED,
                  "ignore": ExceptionStatus.IGNORED}[args.action]
        for item in items:
            store.exceptions.set_status(item.id, status)
        after = {"items": [item.id for item in items], "reason": getattr(args, "reason", None)}
    action = {"assign": "exception.assigned", "retry": "exception.retry_requested", "resolve": "exception.resolved",
              "ignore": "exception.ignored"}[args.action]
    store.audit.append(items[0].tenant, [NewAuditEvent(action, actor=actor[:64], handoff=item.handoff,
                                                       **_audit_ids(item), after=after) for item in items])
    if args.action == "retry" and args.now:
        try:
            return _retry_now(items)
        except (SpecError, TenantError, KeyError) as err:
            raise UserError(f"{str(err).strip(chr(39) + chr(34))} (the items stay set to retry)") from None
    done = {"assign": f"assigned to {getattr(args, 'to', '')}", "retry": "set to retry (the next run re-processes it)",
            "resolve": "resolved", "ignore": "ignored"}[args.action]
    print(f"{', '.join(f'#{item.id}' for item in items)} {done}")
    return 0


def _list_exceptions(store, args) -> int:
    from datetime import datetime, timedelta, timezone

    before = datetime.now(timezone.utc) - timedelta(days=args.older_than) if args.older_than else None
    items = store.exceptions.list(args.tenant, args.handoff, None if args.status == "all" else args.status,
                                  limit=1000, owner=args.owner, seen_before=before)
    if not items:
        print(f"no {args.status} exception items")
    for item in items:
        print(f"#{item.id:<5} {item.tenant:<10} {item.record_type} {item.record_id:<12} {item.status:<9} "
              f"{item.reason_code:<24} owner {item.owner:<10} attempts {item.attempts}  {item.detail[:100]}")
    return 0


def _retry_now(items) -> int:
    """Run each item's handoff for just the records set to retry (no delta read)."""
    from ledgerlink.report import RunReport
    from ledgerlink.tenants import load_tenants, tenants_path

    tenants = load_tenants(tenants_path())  # what the user can fix, before Prefect starts
    unknown = sorted({item.tenant for item in items} - set(tenants))
    if unknown:
        raise UserError(f"unknown tenant(s) {', '.join(unknown)} in {tenants_path()}")
    status = 0
    for tenant, handoff in sorted({(item.tenant, item.handoff) for item in items}):
        if handoff == "won-deal-to-invoice":
            from flows.won_deal_to_invoice import won_deal_to_invoice

            result = won_deal_to_invoice(tenant=tenant, only_retries=True)
        elif handoff == "contact-to-accounting-contact":
            from flows.contact_to_accounting_contact import contact_to_accounting_contact

            result = contact_to_accounting_contact(tenant=tenant, only_retries=True)
        elif handoff == "payment-to-crm":
            from flows.linked_update import payment_to_crm

            result = payment_to_crm(tenant=tenant, only_retries=True)
        else:
            from flows.linked_update import declared_handoff

            result = declared_handoff(handoff=handoff, tenant=tenant, only_retries=True)
        print(RunReport(**result).text())
        status = status or (0 if result["status"] == "completed" else 1)
    return status


def _audit_ids(item) -> dict:
    """How the audit log indexes an item's record (deals and customers have their own columns)."""
    key = {"deal": "deal_id", "company": "customer_id"}.get(item.record_type)
    return {key: item.record_id} if key else {}


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cmd_serve(args) -> int:
    """One machine, every tenant: what `python -m deployments.serve` does, behind the CLI."""
    from prefect import serve

    from deployments.serve import deployments_for_tenants

    try:
        deployments = deployments_for_tenants()
    except (SpecError, TenantError) as err:
        raise UserError(str(err)) from None
    print(f"serving {len(deployments)} deployments (Africa/Johannesburg schedules); Ctrl-C stops", flush=True)
    serve(*deployments)
    return 0


def cmd_reconcile(args) -> int:
    from flows.reconciliation import reconciliation

    try:
        result = reconciliation(tenant=args.tenant, fix=not args.report_only)
    except (SpecError, TenantError, KeyError) as err:
        raise UserError(str(err).strip("'\"")) from None
    for cls, count in sorted(result["counts"].items()):
        fixed = result["fixed"].get(cls)
        print(f"  {cls:<28} {count:>7}" + (f"   ({fixed} fixed)" if fixed else ""))
    print(f"{sum(result['counts'].values())} discrepancies · report {result['html']} · csv {result['csv']}")
    return 0


def cmd_approvals(args) -> int:
    if args.action == "sweep":
        from flows.approval_deadlines import approval_deadlines

        try:
            print(json.dumps(approval_deadlines(tenant=args.tenant), indent=2))
        except (SpecError, TenantError, KeyError) as err:
            raise UserError(str(err).strip("'\"")) from None
        return 0
    from tasks.approval_slack import decided_at_text

    rows = _store().approvals.list(args.tenant, status=None if args.status == "all" else args.status)
    for row in rows:
        decided = f"{row.status} by {row.decided_by} at {decided_at_text(row.decided_at)}" if row.decided_at \
            else row.status
        print(f"{row.id}  {row.tenant:<12} {row.record_type} {row.record_id:<14} {','.join(row.rules):<28} "
              f"{row.context.get('currency', '')} {row.context.get('total', ''):>12}  {decided}"
              + (f"  → {row.outcome}" if row.outcome else ""))
    print(f"{len(rows)} request(s)", file=sys.stderr)
    return 0


def cmd_slack(args) -> int:
    import uvicorn

    from connectors.slack.interactivity import interactivity_app
    from ledgerlink.tenants import load_tenants, resolve_secret, tenants_path
    from tasks.decisions import SlackDecisions

    try:
        tenant = load_tenants(tenants_path())[args.tenant]
        if tenant.slack is None:
            raise UserError(f"tenant {args.tenant} has no slack: section in {tenants_path()}")
        app = interactivity_app(resolve_secret(tenant.slack.signing_secret), SlackDecisions(tenant, _store()))
    except (TenantError, KeyError) as err:
        raise UserError(str(err).strip("'\"")) from None
    print(f"Slack interactivity for tenant {args.tenant}: http://{args.host}:{args.port}/slack/interactivity "
          "(set it as the Slack app's Request URL, behind HTTPS)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_config(args) -> int:
    from ledgerlink.config_commands import cmd_config

    return cmd_config(args, _store(), UserError)


def cmd_audit(args) -> int:
    store = _store()
    if args.verify:
        if not args.tenant:
            raise UserError("--verify needs --tenant")
        broken = store.audit.verify(args.tenant)
        print("audit chain intact" if broken is None else f"audit chain BROKEN at event {broken}")
        return 0 if broken is None else 1
    if not (args.deal or args.invoice or args.customer):
        raise UserError("say what to search for: --deal ID, --invoice NUMBER or --customer ID")
    events = store.audit.search(args.tenant, deal_id=args.deal, invoice_number=args.invoice,
                                customer_id=args.customer)
    if not events:
        print("no audit events match")
    for event in events:
        print(f"{event.at:%Y-%m-%d %H:%M:%S} {event.tenant:<10} #{event.seq:<5} {event.action:<20} "
              f"deal {event.deal_id or '-':<10} invoice {event.invoice_number or '-':<10} "
              f"{json.dumps(event.after, default=str)[:120] if event.after else ''}")
    sys.stdout.flush()
    return 0


def cmd_snapshot(args) -> int:
    """Export (or, with `diff`, compare) snapshots; see tasks/snapshot.py and ledgerlink/snapshot_diff.py."""
    if args.action == "diff":
        return _snapshot_diff(args)
    from pathlib import Path

    from connectors.errors import VendorError
    from ledgerlink.snapshot_files import SnapshotError
    from tasks.snapshot import find_tenant, take_snapshot

    progress = _SnapshotProgress()
    try:
        tenant = find_tenant(args.tenant)
        result = take_snapshot(tenant, Path(args.out) if args.out else None, progress=progress)
    except (SpecError, TenantError, KeyError, SnapshotError) as err:
        raise UserError(str(err).strip("'\"")) from None
    except VendorError as err:  # the partial snapshot is removed; the systems were only read
        print(f"ledgerlink: snapshot failed, nothing kept: {err}", file=sys.stderr)
        return 1
    finally:
        progress.done()
    print(f"snapshot of tenant {result.tenant} ({' + '.join(result.systems)}) written to {result.folder}")
    for object_type, count in result.counts.items():
        print(f"  {object_type:<14} {count:>8,}")
    print(f"  {'total':<14} {sum(result.counts.values()):>8,} records; manifest.json holds counts and SHA-256 hashes")
    print("It holds personal data (POPIA), so it is owner-only (folder 0700, files 0600): "
          "keep it somewhere safe and delete it when it is no longer needed.")
    return 0


class _SnapshotProgress:
    """Records read so far, per page, on stderr (one updating line on a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, object_type: str, count: int) -> None:
        end = "\r" if self.tty else "\n"
        print(f"  reading {object_type}: {count:,}" + " " * 10, end=end, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:  # clear the updating line before the summary
            print("\r" + " " * 40 + "\r", end="", file=sys.stderr, flush=True)


def _snapshot_diff(args) -> int:
    from ledgerlink.settings import home
    from ledgerlink.snapshot_diff import compare, render
    from ledgerlink.snapshot_files import SnapshotError, resolve

    snapshots = home() / "snapshots"
    try:
        diff = compare(resolve(args.a, snapshots), resolve(args.b, snapshots))
    except (SnapshotError, OSError) as err:
        raise UserError(str(err)) from None
    print("\n".join(render(diff, show_personal=args.show_personal)))
    return 1 if diff.different else 0
