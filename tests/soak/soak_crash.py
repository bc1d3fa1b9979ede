"""The crash soak, run by hand: hundreds of SIGKILLs at random points of whole runs, each world
resumed until a run completes and then compared record by record with a clean run.

    .venv/bin/python tests/soak/soak_crash.py --kills 300 --seed 7
    .venv/bin/python tests/soak/soak_crash.py --kills 100 --pairs pipedrive+quickbooks --backend postgresql

A cycle is a fresh, identically seeded world whose runs (contacts → won deals → customers pay →
payment status, in a child process) are each killed at a point drawn from the seed — any vendor
call, before or after the vendor acted, or any store commit — until one finishes before its
point (after MAX_KILLS_PER_CYCLE kills one run is let through). Every kill is followed by the
cursor check; every cycle ends with the comparison. It prints kills tried, runs, records
processed, duplicates, records lost, cursor-ahead violations and the time taken, and exits
non-zero when any of them is not zero. The same harness as tests/reliability (pytest does not
collect this file: it is no test module).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "reliability"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("LEDGERLINK_TASK_RETRY_DELAY_SECONDS", "0")
os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL", "0.5")  # onboarding events read back

MAX_KILLS_PER_CYCLE = 8  # then one run is let through, so every cycle ends


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=300, help="stop once this many kills were tried")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", default="hubspot+xero,pipedrive+quickbooks")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    import crash_child
    from prefect.testing.utilities import prefect_test_harness

    context = crash_child.start_method()
    started = time.monotonic()
    with prefect_test_harness(server_startup_timeout=120):
        totals = soak(context, args, Path(tempfile.mkdtemp(prefix="ll-soak-")))
    totals["seconds"] = round(time.monotonic() - started, 1)
    print("\n== crash soak ==")
    for name in ("kills_tried", "runs", "cycles", "records_processed", "duplicates", "records_lost",
                 "other_differences", "cursor_ahead_violations", "cursor_records_checked", "failed_runs",
                 "seconds"):
        print(f"  {name.replace('_', ' '):<26} {totals[name]}")
    bad = sum(totals[k] for k in ("duplicates", "records_lost", "other_differences", "cursor_ahead_violations",
                                  "failed_runs"))
    return 1 if bad else 0


def soak(context, args, home: Path) -> dict:
    from crash_kill_plan import soak_point
    from crash_loop import clean_run, crash_until_complete
    from crash_outcome import compare, fingerprint, snapshot
    from crash_world import open_world
    from prefect.settings import PREFECT_API_URL

    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_LOGGING_LEVEL": "WARNING"}
    rng = random.Random(args.seed)
    pairs = [tuple(pair.split("+")) for pair in args.pairs.split(",")]
    totals = dict.fromkeys(("kills_tried", "runs", "cycles", "records_processed", "duplicates", "records_lost",
                            "other_differences", "cursor_ahead_violations", "cursor_records_checked",
                            "failed_runs"), 0)
    clean = {}
    for crm, accounting in pairs:
        world = open_world(crm, accounting, home / f"clean-{crm}-{accounting}")
        world.env.update(env)
        try:
            clean[(crm, accounting)] = clean_run(world, context)
        finally:
            world.stop()
    while totals["kills_tried"] < args.kills:
        crm, accounting = pairs[totals["cycles"] % len(pairs)]
        yardstick = clean[(crm, accounting)]
        url, drop = _database(args.backend, home / f"cycle-{totals['cycles']}")
        world = open_world(crm, accounting, home / f"cycle-{totals['cycles']}", url)
        world.env.update(env, LEDGERLINK_INTENT_LEASE_SECONDS="0")
        try:
            plan = [soak_point(rng, yardstick.profile) for _ in range(rng.randint(1, MAX_KILLS_PER_CYCLE))]
            run = crash_until_complete(world, context, plan, yardstick.final, first=totals["runs"] + 1,
                                       use_up_plan=False)
            result = compare(yardstick.final, fingerprint(snapshot(world, events=True)))
        finally:
            world.stop()
            drop()
        totals["cycles"] += 1
        totals["runs"] += len(run.attempts)
        totals["kills_tried"] += run.kills
        totals["records_processed"] += len(yardstick.final.invoices) + len(yardstick.final.contacts) + \
            len(yardstick.final.deals) + len(yardstick.final.companies) + len(yardstick.final.exceptions)
        totals["duplicates"] += len(result.duplicates)
        totals["records_lost"] += len(result.lost)
        totals["other_differences"] += len(result.different)
        totals["cursor_ahead_violations"] += len(run.violations)
        totals["cursor_records_checked"] += run.cursor_records_checked
        totals["failed_runs"] += len(run.failures)
        print(f"cycle {totals['cycles']:>3} {crm}+{accounting}: {run.kills} kill(s) "
              f"[{', '.join(_where(a.point) for a in run.attempts if a.killed)}], {len(run.attempts)} run(s); "
              f"dup {len(result.duplicates)} lost {len(result.lost)} diff {len(result.different)} "
              f"cursor {len(run.violations)} failed {len(run.failures)}", flush=True)
        for line in [*result.duplicates, *result.lost, *result.different, *run.violations, *run.failures][:10]:
            print("    " + line.replace("\n", "\n    ")[:2000], flush=True)
    return totals


def _where(point) -> str:
    return f"commit #{point.nth}" if point.commit else f"call #{point.nth} {point.phase}"


def _database(backend: str, folder: Path):
    """(store URL, drop) for one cycle: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'store.db'}", lambda: None
    from sqlalchemy import create_engine, text

    base = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"ll_soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", drop


if __name__ == "__main__":
    sys.exit(main())
