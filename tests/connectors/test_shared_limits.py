"""Two worker processes on one tenant's Xero budget: with shared limits (Prefect global concurrency
limits on the test server) the sandbox never has to refuse a call; each worker alone, relying on its
own limiter and the rate-limit headers, does get refused when both call at once from several
threads — the headers tell a worker how many calls are left this minute, but not how many the
other worker has in flight right now (Xero allows 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

SCALE = 0.02  # Xero's 60 calls a minute become 60 calls in 1.2 s, for sandbox and clients alike
CALLS_EACH = 30

WORKER = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from connectors.oauth import InMemoryTokenStore, TokenSet
    from connectors.ratelimit import XERO_LIMITS
    from connectors.xero import XeroConnector
    url, tenant_id, client_id, secret, access, token_url, shared, calls = sys.argv[1:]
    limits = {bucket: budget.scaled(%(scale)s) for bucket, budget in XERO_LIMITS.items()}
    store = InMemoryTokenStore()
    store.save("acme", "xero", TokenSet.of(access, "unused", datetime(2100, 1, 1, tzinfo=timezone.utc)))
    connector = XeroConnector(url, tenant_id, store, client_id, secret, token_url, "acme", limits=limits)
    if shared == "1":
        from connectors.shared_limits import share_across_workers
        share_across_workers(connector.http)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda _: connector.tax_rates(), range(int(calls))))
    print("done")
""").replace("THREADS", "4") % {"scale": SCALE}


def _two_workers(sandboxes, shared: bool) -> list[str]:
    from prefect.settings import get_current_settings

    env = {**os.environ, "PREFECT_API_URL": get_current_settings().api.url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    args = [sandboxes.xero_api_url, sandboxes.xero_tenant_id, sandboxes.xero_client_id, sandboxes.xero_client_secret,
            sandboxes.xero_access_token(), sandboxes.xero_token_url, "1" if shared else "0", str(CALLS_EACH)]
    # one access token for both: the tenant's token store is shared in a real deployment, and
    # refresh-token rotation is not what this test is about
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


@pytest.mark.parametrize("shared", [True, False], ids=["shared-limits", "each-worker-alone"])
def test_two_workers_stay_inside_one_tenant_budget_only_when_they_share_it(prefect_server, shared):
    from connectors.sandbox import start_sandboxes

    from connectors.sandbox.limits import LimitSettings

    sandboxes = start_sandboxes(seed=None, limits=True, time_scale=1 / SCALE, latency_s=0.05)
    sandboxes.xero.auth.settings = LimitSettings()  # compress the budget, not the access token's 30 minutes
    try:
        _two_workers(sandboxes, shared)
        refused = sandboxes.xero.stats.snapshot()["rate_limited"]
    finally:
        sandboxes.stop()
    if shared:
        assert refused == 0
    else:
        assert refused > 0  # the control: without sharing, the same load does exceed the budget
