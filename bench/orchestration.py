"""Orchestration overhead and its scaling curve: won deals → invoices with the vendors' limits off,
so ledgerlink's own cost is all there is (the emulators run in a process of their own).

    python -m bench.orchestration --won 10000                 # target: ≥ 1,000 deals/s, peak RSS ≤ 500 MB
    python -m bench.orchestration --won 1000,10000,100000     # the curve: time linear, memory flat

Each size runs in a fresh process (so its peak RSS is its own) against freshly seeded books with
about that many won deals; a warm-up run starts the local Prefect server first, so the figure is
the handoff's, not Prefect's start-up. Prints figures and ratios, never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def one(won: int, crm: str, accounting: str) -> dict:
    from bench.environment import isolated_home
    from bench.sandbox_process import SandboxProcess

    home = isolated_home("ledgerlink-overhead-")
    with SandboxProcess(crm, accounting, deals=won * 2, limits=False) as sandboxes:
        from flows.demo import demo_tenants_file
        from flows.linked_update import payment_to_crm
        from flows.won_deal_to_invoice import won_deal_to_invoice

        demo_tenants_file(home, sandboxes, rate_limits=False, tenant="bench")
        payment_to_crm(tenant="bench")  # warm-up: Prefect's local server, imports, the store
        import expectations.gx_runtime  # noqa: F401  warm-up as well: GX's import, paid once per worker

        expectations.gx_runtime.great_expectations()
        sandboxes.reset_stats()
        cpu = time.process_time()
        started = time.perf_counter()
        result = won_deal_to_invoice(tenant="bench")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        calls = {side: sandboxes.stats(side)["total"] for side in ("crm", "accounting")}
        started = time.perf_counter()
        rerun = won_deal_to_invoice(tenant="bench")
        rerun_s = time.perf_counter() - started
        rerun_calls = sandboxes.calls() - sum(calls.values())
    counts = result["counts"]
    return {"won": sandboxes.won, "deals_read": counts.get("deals_read", 0), "invoices": counts.get("invoices_created", 0),
            "exceptions": counts.get("exceptions", 0), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "calls": calls,
            "rerun_seconds": round(rerun_s, 2), "rerun_calls": rerun_calls,
            "rerun_writes": rerun["counts"].get("invoices_created", 0),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--won", default="10000", help="won deals per size, comma-separated")
    parser.add_argument("--crm", default="hubspot")
    parser.add_argument("--accounting", default="xero")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.crm, args.accounting)))
        return
    rows = []
    for size in (int(part) for part in args.won.split(",")):
        out = subprocess.run([sys.executable, "-m", "bench.orchestration", "--one", str(size), "--crm", args.crm,
                              "--accounting", args.accounting], capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"cores {os.cpu_count()} · {args.crm} + {args.accounting} sandboxes in their own process, limits off")
    print(f"{'won deals':>10} {'invoices':>9} {'seconds':>8} {'CPU s':>6} {'deals/s':>8} {'s per 1k':>9} {'RSS MB':>7} "
          f"{'calls':>6} {'calls/deal':>10} {'rerun':>14}")
    base = rows[0]["seconds"] / rows[0]["won"]
    for row in rows:
        per_deal = row["seconds"] / row["won"]
        calls = sum(row["calls"].values())
        print(f"{row['won']:>10,} {row['invoices']:>9,} {row['seconds']:>8.1f} {row['cpu_seconds']:>6.1f} "
              f"{row['won'] / row['seconds']:>8,.0f} "
              f"{per_deal * 1000:>9.2f} {row['peak_rss_mb']:>7} {calls:>6} {calls / row['won']:>10.3f} "
              f"{row['rerun_calls']:>4} calls {row['rerun_writes']} writes"
              + (f"   time per deal ×{per_deal / base:.2f} of the first size" if row is not rows[0] else ""))
    print("targets: ≥ 1,000 deals/s and ≤ 500 MB at 10k; time per deal flat (linear time) and RSS flat across sizes")


if __name__ == "__main__":
    main()
