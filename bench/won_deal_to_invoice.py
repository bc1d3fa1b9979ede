"""Benchmark: N seeded deals → invoices on the embedded default, sandbox limits off.

    python -m bench.won_deal_to_invoice --deals 5000

Prints throughput (won deals and invoices per second), API calls per invoice counted at the
sandboxes, peak RSS and the machine's core count. Figures, not assertions: compare runs by ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from bench.environment import isolated_home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=5000, help="deals to seed (about half are won)")
    parser.add_argument("--limits", action="store_true", help="keep the vendors' real rate limits on")
    args = parser.parse_args()
    home = isolated_home("ledgerlink-bench-")

    from connectors.sandbox import start_sandboxes
    from flows.demo import demo_tenants_file

    seeded = time.perf_counter()
    sandboxes = start_sandboxes(seed=7, limits=args.limits, deals=args.deals)
    seed_s = time.perf_counter() - seeded
    try:
        demo_tenants_file(home, sandboxes, rate_limits=args.limits)
        from flows.won_deal_to_invoice import won_deal_to_invoice

        won = sum(1 for d in sandboxes.hubspot.deals.objects.values() if d.props.get("dealstage") == "closedwon")
        started = time.perf_counter()
        first = won_deal_to_invoice(tenant="demo")
        first_s = time.perf_counter() - started
        calls_first = _calls(sandboxes)
        throttled = sum(state.stats.snapshot()["rate_limited"] for state in (sandboxes.hubspot, sandboxes.xero))
        started = time.perf_counter()
        second = won_deal_to_invoice(tenant="demo")
        second_s = time.perf_counter() - started
        calls_second = _calls(sandboxes) - calls_first
    finally:
        sandboxes.stop()
    invoices = first["counts"].get("invoices_created", 0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cores {os.cpu_count()} · deals seeded {args.deals} ({won} won) in {seed_s:.1f}s · limits {'on' if args.limits else 'off'}")
    print(f"first run : {first_s:7.2f}s  {won / first_s:8.1f} won deals/s  {invoices / first_s:8.1f} invoices/s  "
          f"invoices {invoices}  exceptions {first['counts'].get('exceptions', 0)}")
    print(f"            API calls {calls_first} → {calls_first / max(invoices, 1):.3f} calls per invoice "
          f"({first['api']['hubspot']['calls']} HubSpot, {first['api']['xero']['calls']} Xero), "
          f"429s answered by the sandboxes {throttled}")
    print(f"second run: {second_s:7.2f}s  API calls {calls_second}  writes {second['counts'].get('invoices_created', 0)}")
    print(f"peak RSS  : {rss_mb:.0f} MB (this process: sandboxes + flow)")


def _calls(sandboxes) -> int:
    return sandboxes.hubspot.stats.snapshot()["total"] + sandboxes.xero.stats.snapshot()["total"]


if __name__ == "__main__":
    main()
