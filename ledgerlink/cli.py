"""`ledgerlink` command line. Start-up stays fast: Prefect, Great Expectations and the connectors
are imported inside the commands that need them, never at import time (`--help` imports none)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

HANDOFFS = ["contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-30") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerlink",
        description="Keep a CRM and an accounting system in step: won deals become invoices, "
                    "invoice numbers go back to the deals, bad records wait in an exception queue.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run all three handoffs on local CRM + accounting sandboxes")
    demo.add_argument("--crm", choices=("hubspot", "pipedrive"), default="hubspot", help="the CRM sandbox")
    demo.add_argument("--accounting", choices=("xero", "quickbooks"), default="xero",
                      help="the accounting sandbox")
    demo.add_argument("--reset", action="store_true", help="start from fresh sandboxes and an empty store")
    demo.add_argument("--deals", type=int, default=60, help="deals to seed on first run (default 60)")
    demo.add_argument("--no-limits", action="store_true", help="switch the sandboxes' rate limits off")

    run = commands.add_parser("run", help="run a handoff for a tenant (tenants file: LEDGERLINK_TENANTS)")
    run.add_argument("handoff", help=f"{' | '.join(HANDOFFS)}, or the path of an update-linked spec")
    run.add_argument("--tenant", default="demo")
    run.add_argument("--max-pages", type=int, default=None, help="stop after N pages; the cursor resumes later")
    run.add_argument("--dry-run", action="store_true",
                     help="read both sides and print what would be created, updated, skipped, reviewed or "
                          "queued; write nothing and move no cursor")

    backfill = commands.add_parser("backfill", help="move historical records (changed between two days) in "
                                                    "resumable pages, without moving the live cursor")
    backfill.add_argument("handoff", help=f"{' | '.join(HANDOFFS)}, or the path of an update-linked spec")
    backfill.add_argument("--since", type=_day, required=True, help="first day, YYYY-MM-DD (tenant's calendar)")
    backfill.add_argument("--until", type=_day, default=None, help="last day, YYYY-MM-DD (default: today)")
    backfill.add_argument("--tenant", default="demo")
    backfill.add_argument("--max-pages", type=int, default=None, help="stop after N pages; run again to resume")
    backfill.add_argument("--dry-run", action="store_true", help="print the plan instead of moving anything")

    exceptions = commands.add_parser("exceptions", help="the exception queue: records that could not move")
    ex_commands = exceptions.add_subparsers(dest="action", required=True, metavar="ACTION")
    ex_list = ex_commands.add_parser("list", help="list exception items (oldest first)")
    ex_list.add_argument("--tenant")
    ex_list.add_argument("--handoff")
    ex_list.add_argument("--owner")
    ex_list.add_argument("--older-than", type=float, metavar="DAYS", help="first seen more than DAYS ago")
    ex_list.add_argument("--status", default="open", help="open|retrying|resolved|ignored|all")
    ex_show = ex_commands.add_parser("show", help="show one item in full, with its history")
    ex_show.add_argument("item_id", type=int)
    ex_assign = ex_commands.add_parser("assign", help="give an item to another owner")
    ex_assign.add_argument("item_id", type=int)
    ex_assign.add_argument("--to", required=True, metavar="OWNER")
    ex_retry = ex_commands.add_parser("retry", help="re-process items on the next run (or now, with --now)")
    ex_retry.add_argument("item_ids", type=int, nargs="+")
    ex_retry.add_argument("--now", action="store_true", help="run their handoff now, for just these records")
    for action, text in (("resolve", "close an item fixed some other way"), ("ignore", "stop reporting an item")):
        sub = ex_commands.add_parser(action, help=text)
        sub.add_argument("item_id", type=int)
        sub.add_argument("--reason", required=True, help="why (kept on the audit trail)")

    commands.add_parser("serve", help="run every tenant's handoffs, approvals, reconciliation and alerts on "
                                      "their schedules from this machine (Prefect serve)")

    reconcile = commands.add_parser("reconcile", help="compare CRM and accounting now; report (and make safe fixes)")
    reconcile.add_argument("--tenant", default="demo")
    reconcile.add_argument("--report-only", action="store_true", help="make no fixes, not even the safe ones")

    approvals = commands.add_parser("approvals", help="review items waiting for (or decided by) finance")
    ap_commands = approvals.add_subparsers(dest="action", required=True, metavar="ACTION")
    ap_list = ap_commands.add_parser("list", help="list approval requests")
    ap_list.add_argument("--tenant")
    ap_list.add_argument("--status", default="pending", help="pending|approved|rejected|timed_out|superseded|all")
    ap_sweep = ap_commands.add_parser("sweep", help="send due reminders and escalations, time out overdue requests")
    ap_sweep.add_argument("--tenant", default="demo")

    slack = commands.add_parser("slack", help="the Slack interactivity endpoint finance's clicks arrive at")
    slack_commands = slack.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = slack_commands.add_parser("serve", help="serve POST /slack/interactivity for a tenant's Slack app")
    serve.add_argument("--tenant", default="demo")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)

    snapshot = commands.add_parser(
        "snapshot", help="before go-live: export what ledgerlink may touch on both sides (owner-only files); "
                         "`snapshot diff A B` compares two")
    snapshot.add_argument("--tenant", default="demo")
    snapshot.add_argument("--out", metavar="DIR", help="the new snapshot's folder "
                                                       "(default <home>/snapshots/<tenant>-<UTC time>)")
    sn_commands = snapshot.add_subparsers(dest="action", metavar="[diff]")
    sn_diff = sn_commands.add_parser("diff", help="compare two snapshots: added, removed, changed records "
                                                  "(exit 0 identical, 1 different, 2 bad input)")
    sn_diff.add_argument("a", metavar="A", help="a snapshot folder, or a name under <home>/snapshots")
    sn_diff.add_argument("b", metavar="B")
    sn_diff.add_argument("--show-personal", action="store_true", help="print personal fields unmasked")

    audit = commands.add_parser("audit", help="search the audit log")
    audit.add_argument("--tenant")
    audit.add_argument("--deal")
    audit.add_argument("--invoice", help="invoice number, e.g. INV-0001")
    audit.add_argument("--customer")
    audit.add_argument("--verify", action="store_true", help="check the hash chain of --tenant")

    config = commands.add_parser("config", help="configuration versions: check changes before they take effect")
    config_commands = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = config_commands.add_parser("check", help="validate specs (with tenant overrides) and suites; dry-run "
                                                     "new versions against sandboxes and record them as checked")
    history = config_commands.add_parser("history", help="configuration versions each handoff used, newest first")
    for sub in (check, history):
        sub.add_argument("--tenant", help="one tenant (default: every tenant)")
        sub.add_argument("--handoff", help="one handoff (default: every handoff of the tenant)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # The temporary local Prefect server gets 20 s to start by default: too little on a busy laptop.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from ledgerlink import commands

    try:
        return getattr(commands, f"cmd_{args.command}")(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except commands.UserError as err:
        print(f"ledgerlink: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
