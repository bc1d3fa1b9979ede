"""How much of the vendor's budget a bulk run uses: Xero allows 60 calls a minute and takes 50
invoices a call, so at most 3,000 invoices a minute. With the sandboxes enforcing the vendors' real
limits (Xero and HubSpot alike), the run should sustain ≥ 90 % of that and bounce off almost no
429s — the client paces itself from the rate-limit headers.

    python -m bench.vendor_budget --won 9000        # about three minutes of Xero's real budget

The customers are created first (not measured); then the won-deal run is timed from its first to
its last invoice call, counted at the Xero sandbox. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import os
import time

XERO_CALLS_PER_MINUTE = 60
INVOICES_PER_CALL = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--won", type=int, default=9000, help="won deals (about as many again are not won)")
    args = parser.parse_args()

    from bench.environment import isolated_home
    from bench.sandbox_process import SandboxProcess

    home = isolated_home("ledgerlink-budget-")
    with SandboxProcess("hubspot", "xero", deals=args.won * 2, limits=True) as sandboxes:
        from flows.contact_to_accounting_contact import contact_to_accounting_contact
        from flows.demo import demo_tenants_file
        from flows.won_deal_to_invoice import won_deal_to_invoice

        demo_tenants_file(home, sandboxes, rate_limits=True, tenant="budget")
        contact_to_accounting_contact(tenant="budget")
        sandboxes.reset_stats()
        started = time.perf_counter()
        result = won_deal_to_invoice(tenant="budget")
        seconds = time.perf_counter() - started
        xero, hubspot = sandboxes.stats("accounting"), sandboxes.stats("crm")
    invoices = result["counts"].get("invoices_created", 0)
    creates = xero["calls"].get("PUT /api.xro/2.0/Invoices", 0)
    allowed = XERO_CALLS_PER_MINUTE * INVOICES_PER_CALL * seconds / 60
    print(f"cores {os.cpu_count()} · Xero at its real budget ({XERO_CALLS_PER_MINUTE} calls/min, "
          f"{INVOICES_PER_CALL} invoices per call), HubSpot at 100 calls per 10 s")
    print(f"won-deal run : {seconds:.1f}s for {invoices:,} invoices in {creates} create calls "
          f"({invoices / max(creates, 1):.1f} per call) · {invoices / seconds * 60:,.0f} invoices/min")
    print(f"budget used  : {invoices / allowed:.1%} of the {XERO_CALLS_PER_MINUTE * INVOICES_PER_CALL:,} "
          f"invoices/min Xero allows · Xero calls {xero['total']} ({xero['total'] / seconds * 60:.1f}/min)")
    print(f"429s         : Xero {xero['rate_limited']}, HubSpot {hubspot['rate_limited']} "
          f"(client retries {result['api']['xero'].get('retries', 0)} / {result['api']['hubspot'].get('retries', 0)})")
    print("target: ≥ 90 % of the budget, no more than a handful of 429s")


if __name__ == "__main__":
    main()
