"""API calls are the scarce resource: calls per won deal in bulk, and what an unchanged rerun of
each handoff costs, counted at the sandboxes for every CRM × accounting pair.

    python -m bench.api_calls --won 2000

Targets (issue 7): won deal → invoice end to end ≤ 0.1 calls per won deal in bulk; an unchanged
rerun of any handoff ≤ 3 calls per tenant and zero writes. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import os

from bench.environment import isolated_home

PAIRS = [("hubspot", "xero"), ("pipedrive", "quickbooks"), ("hubspot", "quickbooks"), ("pipedrive", "xero")]
HANDOFFS = ("contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm")


def _calls(pair) -> tuple[int, int, dict]:
    crm, accounting = pair.crm.stats.snapshot(), pair.accounting.stats.snapshot()
    return crm["total"] + accounting["total"], crm["writes"] + accounting["writes"], {
        pair.crm.system: crm["calls"], pair.accounting.system: accounting["calls"]}


def measure(crm: str, accounting: str, won: int) -> dict:
    from connectors.ratelimit import REGISTRY
    from connectors.sandbox.pairs import start_pair
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.demo import demo_tenants_file
    from flows.linked_update import payment_to_crm
    from flows.won_deal_to_invoice import won_deal_to_invoice

    REGISTRY.clear()
    home = isolated_home(f"ledgerlink-calls-{crm}-{accounting}-")
    runs = {"contact-to-accounting-contact": contact_to_accounting_contact, "won-deal-to-invoice": won_deal_to_invoice,
            "payment-to-crm": payment_to_crm}
    with start_pair(crm, accounting, seed=11, deals=won * 2, limits=False) as pair:
        demo_tenants_file(home, pair, rate_limits=False, tenant="calls")
        contact_to_accounting_contact(tenant="calls")
        pair.reset_stats()
        first = won_deal_to_invoice(tenant="calls")
        bulk_calls, _, _ = _calls(pair)
        payment_to_crm(tenant="calls")
        reruns = {}
        for handoff in HANDOFFS:
            pair.reset_stats()
            runs[handoff](tenant="calls")
            calls, writes, detail = _calls(pair)
            reruns[handoff] = (calls, writes, detail)
    return {"won": pair.seed_report.won_deals, "invoices": first["counts"].get("invoices_created", 0),
            "bulk_calls": bulk_calls, "reruns": reruns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--won", type=int, default=2000, help="won deals to seed (about as many again are not won)")
    parser.add_argument("--pairs", default=",".join(f"{c}+{a}" for c, a in PAIRS))
    parser.add_argument("--verbose", action="store_true", help="list every rerun call by endpoint")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()} · about {args.won} won deals per pair · calls counted at the sandboxes")
    print(f"{'pair':<22} {'won':>6} {'invoices':>8} {'calls':>6} {'per won deal':>12}   unchanged rerun: calls/writes")
    for text in args.pairs.split(","):
        crm, accounting = text.split("+")
        row = measure(crm, accounting, args.won)
        reruns = "  ".join(f"{h.split('-')[0]} {c}/{w}" for h, (c, w, _) in row["reruns"].items())
        print(f"{text:<22} {row['won']:>6} {row['invoices']:>8} {row['bulk_calls']:>6} "
              f"{row['bulk_calls'] / max(row['won'], 1):>12.3f}   {reruns}")
        if args.verbose:
            for handoff, (_, _, detail) in row["reruns"].items():
                print(f"    {handoff}: {detail}")
    print("targets: ≤ 0.100 calls per won deal in bulk; ≤ 3 calls and 0 writes per unchanged rerun")


if __name__ == "__main__":
    main()
