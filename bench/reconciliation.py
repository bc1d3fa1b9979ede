"""Benchmark: the nightly reconciliation over a large ledger, in bounded memory.

    python -m bench.reconciliation --invoices 100000

Seeds the sandboxes, runs the contact, won-deal and payment handoffs once for real, then multiplies that
synced state (each won deal, its invoice and its link cloned with fresh ids and references) up to
`--invoices`, and runs the reconciliation against the sandboxes over HTTP. Prints time, API calls,
records per second and peak RSS, with the RSS before the reconciliation for the ratio.
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import time
import uuid

from bench.environment import isolated_home


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--seed-deals", type=int, default=2000, help="deals seeded and synced for real")
    args = parser.parse_args()
    home = isolated_home("ledgerlink-bench-recon-")

    from connectors.sandbox import start_sandboxes
    from flows.demo import demo_tenants_file

    sandboxes = start_sandboxes(seed=11, limits=False, deals=args.seed_deals)
    try:
        demo_tenants_file(home, sandboxes, rate_limits=False)
        from flows.contact_to_accounting_contact import contact_to_accounting_contact
        from flows.linked_update import payment_to_crm
        from flows.reconciliation import reconciliation
        from flows.won_deal_to_invoice import won_deal_to_invoice
        from ledgerlink.store import open_store

        started = time.perf_counter()
        contact_to_accounting_contact(tenant="demo")
        won_deal_to_invoice(tenant="demo")
        payment_to_crm(tenant="demo")
        store = open_store()
        copies = multiply(sandboxes, store, args.invoices)
        print(f"synced {args.seed_deals} seeded deals and cloned to {copies} invoices in "
              f"{time.perf_counter() - started:.1f}s; peak RSS so far {rss_mb():.0f} MB")
        before_calls = _calls(sandboxes)
        before_rss = rss_mb()
        started = time.perf_counter()
        result = reconciliation(tenant="demo", fix=False)
        seconds = time.perf_counter() - started
        calls = _calls(sandboxes) - before_calls
    finally:
        sandboxes.stop()
    read = result["read"]
    print(f"cores {os.cpu_count()} · reconciliation of {read['invoices']} invoices, {read['deals']} deals, "
          f"{read['links']} links: {seconds:.1f}s ({(read['invoices'] + read['deals']) / seconds:,.0f} records/s)")
    print(f"API calls {calls} · discrepancies {sum(result['counts'].values())} {result['counts']}")
    print(f"peak RSS {rss_mb():.0f} MB (before the reconciliation {before_rss:.0f} MB; the sandboxes' own "
          f"{read['invoices']:,} invoices live in this process too)")


def multiply(sandboxes, store, target: int) -> int:
    """Clone each synced (deal, invoice, link) with fresh ids until `target` invoices exist."""
    hubspot, books = sandboxes.hubspot, sandboxes.xero.default_books
    links = [row for page in store.links.pages("demo", "invoice") for row in page]
    invoices = {i["InvoiceID"]: i for i in books.invoices.values() if i.get("Type") == "ACCREC"}
    deals = hubspot.deals
    company_of = {crm_id: hubspot.associations.targets("deals", int(crm_id), "companies") for crm_id, _, _ in links}
    next_id = max(int(i) for i in deals.objects) + 1
    count, batch = len(invoices), []
    while count < target:
        for crm_id, accounting_id, _ in links:
            if count >= target:
                break
            original = deals.get(crm_id)
            new_id = next_id
            next_id += 1
            deals.insert_raw(new_id, dict(original.props), original.created_ms, original.modified_ms)
            for company_id, primary in company_of[crm_id]:
                hubspot.associate("deals", new_id, "companies", company_id, primary)
            invoice = copy.deepcopy(invoices[accounting_id])
            invoice["InvoiceID"], invoice["InvoiceNumber"] = str(uuid.uuid4()), None
            invoice["Reference"] = f"DEAL-{new_id}"
            books.save_invoice(invoice)
            batch.append({"crm_id": str(new_id), "accounting_id": invoice["InvoiceID"],
                          "accounting_number": invoice["InvoiceNumber"]})
            count += 1
            if len(batch) == 5000:
                store.links.save("demo", "invoice", batch)
                batch = []
    store.links.save("demo", "invoice", batch)
    deals.reindex()  # the clones become searchable like any deal
    return count


def _calls(sandboxes) -> int:
    return sandboxes.hubspot.stats.snapshot()["total"] + sandboxes.xero.stats.snapshot()["total"]


if __name__ == "__main__":
    main()
