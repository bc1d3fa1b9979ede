"""Approval latency: from finance's click in Slack to the resumed run having applied the decision
(the invoice exists in Xero), on a local Prefect server. Target ≤ 2 s.

    python -m bench.approval_latency --clicks 5

Real parts: the HubSpot and Xero sandboxes, a fake Slack Web API over HTTP, the `ledgerlink slack
serve` interactivity app receiving signed requests, and ad hoc approval runs paused in this process
(deployed runs suspend instead, and a worker then starts the resumed run in a new process: add its
poll interval and a Python start to these figures). Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal

SECRET = "bench-signing-secret-0123456789ab"
FINANCE = "U0FINANCE1"


def _discount(sandboxes, deal_id: str) -> None:
    """Sales gives 25 % off the deal's first line (a pricing override finance must approve)."""
    hubspot = sandboxes.hubspot
    lines = sorted(t[0] for t in hubspot.associations.targets("deals", int(deal_id), "line_items"))
    hubspot.update("line_items", lines[0], {"hs_discount_percentage": "25"})
    net = Decimal(0)
    for line_id in lines:
        props = hubspot.line_items.get(line_id).props
        net += (Decimal(props["quantity"]) * Decimal(props["price"])
                * (100 - Decimal(props.get("hs_discount_percentage") or 0)) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    hubspot.update("deals", int(deal_id), {"amount": str(net)})


def _wait(condition, timeout: float = 60.0, step: float = 0.005) -> float:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("gave up waiting")
        time.sleep(step)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=5)
    args = parser.parse_args()

    import httpx

    from bench.environment import isolated_home
    from connectors.sandbox import start_sandboxes
    from connectors.slack.fake_slack import (BOT_TOKEN, block_actions_payload, interaction_body, serve, sign_request,
                                             start_fake_slack)
    from connectors.slack.interactivity import interactivity_app
    from flows.demo import demo_tenants_file
    from flows.won_deal_to_invoice import won_deal_to_invoice
    from ledgerlink.store import open_store
    from ledgerlink.tenants import load_tenants, tenants_path
    from tasks.decisions import SlackDecisions

    home = isolated_home("ledgerlink-approval-")
    sandboxes, slack = start_sandboxes(seed=42, limits=False), start_fake_slack()
    os.environ.update(BENCH_SLACK_TOKEN=BOT_TOKEN, BENCH_SLACK_SECRET=SECRET)
    demo_tenants_file(home, sandboxes, rate_limits=False, slack={
        "token": "env:BENCH_SLACK_TOKEN", "signing_secret": "env:BENCH_SLACK_SECRET", "base_url": slack.base_url,
        "roles": {"finance": {"users": [FINANCE]}, "finance-lead": {"users": [FINANCE]}}})
    store = open_store()
    app = serve(interactivity_app(SECRET, SlackDecisions(load_tenants(tenants_path())["demo"], store),
                                  response_url_prefixes=(slack.root_url,)))
    won = sorted((str(d.id) for d in sandboxes.hubspot.deals.objects.values()
                  if d.props.get("dealstage") == "closedwon" and not d.props.get("ll_seed_defect")), key=int)
    chosen = won[:args.clicks]
    try:
        for deal_id in chosen:
            _discount(sandboxes, deal_id)
        won_deal_to_invoice(tenant="demo")  # the others are invoiced; these wait, each in a paused run
        latencies, acks = [], []
        books = sandboxes.xero.default_books
        for deal_id in chosen:
            def posted() -> bool:
                request = store.approvals.latest_for("demo", "won-deal-to-invoice", [deal_id]).get(deal_id)
                return bool(request and request.slack_ts)
            _wait(posted)
            request = store.approvals.latest_for("demo", "won-deal-to-invoice", [deal_id])[deal_id]
            time.sleep(1.0)  # let the run settle into its pause, as it would while finance reads
            body = interaction_body(block_actions_payload("approve", request.id, FINANCE, slack.response_url(deal_id)))
            clicked = time.perf_counter()
            response = httpx.post(f"{app.url}/slack/interactivity", content=body, timeout=10,
                                  headers=sign_request(SECRET, body, timestamp=int(time.time())))
            acks.append(time.perf_counter() - clicked)
            assert response.status_code == 200, response.text
            _wait(lambda: any(i.get("Reference") == f"DEAL-{deal_id}" for i in books.invoices.values()))
            latencies.append(time.perf_counter() - clicked)
    finally:
        app.stop()
        slack.stop()
        sandboxes.stop(save=False)
    print(f"cores {os.cpu_count()} · {len(latencies)} approvals · ad hoc (paused) approval runs, local Prefect")
    print(f"Slack acknowledged in : median {statistics.median(acks) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms "
          "(Slack allows 3 s)")
    print(f"click → invoice exists: median {statistics.median(latencies):.2f}s, max {max(latencies):.2f}s "
          f"(target ≤ 2 s)")


if __name__ == "__main__":
    main()
