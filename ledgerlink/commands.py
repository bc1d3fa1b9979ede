"""What each CLI command does. Errors a user can fix are printed as one line (UserError), not traces."""

from __future__ import annotations

import json
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
        report = run_demo(reset=args.reset, deals=args.deals, limits=not args.no_limits)
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
        result = _run_flow(spec, args)
    except (SpecError, TenantError, KeyError) as err:
        raise UserError(str(err).strip("'\"")) from None
    print(RunReport(**result).text())
    _wait_for_local_approvals()
    return 0 if result["status"] == "completed" else 1


def _wait_for_local_approvals() -> None:
    """An ad-hoc run's approval runs pause in this process; leaving would orphan them."""
    from tasks.approval_runs import wait_for_local_approvals

    waiting = wait_for_local_approvals(timeout=0)
    if waiting:
        print(f"{waiting} approval run(s) wait for a decision in Slack or the Prefect UI; waiting here "
              "(Ctrl-C stops waiting: decisions made later are applied by the next run)", flush=True)
        wait_for_local_approvals()


def _run_flow(spec, args) -> dict:
    if spec.kind == "sync-customers":
        from flows.contact_to_accounting_contact import contact_to_accounting_contact

        return contact_to_accounting_contact(tenant=args.tenant)
    if spec.kind == "create-invoices":
        from flows.won_deal_to_invoice import won_deal_to_invoice

        return won_deal_to_invoice(tenant=args.tenant, max_pages=args.max_pages)
    from flows.linked_update import declared_handoff, payment_to_crm

    if spec.name == "payment-to-crm":
        return payment_to_crm(tenant=args.tenant)
    return declared_handoff(handoff=str(spec.path), tenant=args.tenant)


def cmd_exceptions(args) -> int:
    from ledgerlink.store.tables import ExceptionStatus

    store = _store()
    if args.action == "list":
        status = None if args.status == "all" else args.status
        items = store.exceptions.list(args.tenant, status=status, limit=1000)
        if not items:
            print(f"no {args.status} exception items")
        for item in items:
            print(f"#{item.id:<5} {item.tenant:<10} {item.record_type} {item.record_id:<12} {item.status:<9} "
                  f"{item.reason_code:<24} owner {item.owner:<10} attempts {item.attempts}  {item.detail[:100]}")
        return 0
    if args.action == "show":
        item = store.exceptions.get(args.item_id)
        if item is None:
            raise UserError(f"no exception item #{args.item_id}")
        print(json.dumps(item.model_dump(mode="json"), indent=2))
        return 0
    status = ExceptionStatus.RETRYING if args.action == "retry" else ExceptionStatus.IGNORED
    item = store.exceptions.set_status(args.item_id, status)
    if item is None:
        raise UserError(f"no exception item #{args.item_id}")
    print(f"#{item.id} is now {item.status}" + (" (the next run re-processes it)" if args.action == "retry" else ""))
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
