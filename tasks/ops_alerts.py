"""What ops and the exception owners are told in Slack without asking: a run failed, a handoff has
not succeeded for too long, and each morning what waits for whom. Every message names the tenant,
the handoff and, where there is one, the link to the run. Messages carry counts and reasons, never
customer data. A tenant without Slack gets the same findings in the flow's log instead.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from ledgerlink.store import Store
from ledgerlink.tenants import Tenant
from ledgerlink.timestamps import as_utc
from tasks.approval_slack import run_url, slack_client

log = logging.getLogger(__name__)

# How long each handoff may go without a completed run before ops hear of it (a few schedule periods).
SILENCE_LIMITS = {
    "won-deal-to-invoice": timedelta(minutes=30),
    "contact-to-accounting-contact": timedelta(hours=1),
    "payment-to-crm": timedelta(hours=1),
    "reconciliation": timedelta(hours=26),
}
WATCHDOG_KEY = "watchdog:{handoff}"  # cursor row: when ops were last told this handoff is silent


def post(tenant: Tenant, channel: str | None, text: str) -> bool:
    """Send one message; False (and a log line) when the tenant has no Slack or Slack fails."""
    client = slack_client(tenant)
    if client is None:
        log.warning("(no Slack for tenant %s) %s", tenant.name, text)
        return False
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client.chat_postMessage(channel=channel or tenant.slack.ops_channel, text=text)
        return True
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("could not alert Slack for tenant %s: %s", tenant.name, type(error).__name__)
        return False


def failed_run_text(tenant: str, handoff: str, run_id: str | None, message: str | None) -> str:
    link = run_url(run_id)
    return (f":red_circle: *{handoff}* failed for tenant *{tenant}*: {(message or 'no message')[:300]}"
            + (f"\n<{link}|Open the run>" if link else f" (run {run_id})" if run_id else ""))


def silent_handoffs(store: Store, tenant: Tenant, now: datetime) -> list[tuple[str, datetime | None]]:
    """Enabled handoffs with no completed run within their limit, not already reported in that window."""
    silent = []
    for handoff in [*tenant.handoffs, "reconciliation"]:
        limit = SILENCE_LIMITS.get(handoff)
        last = store.runs.last_success(tenant.name, handoff)
        last = as_utc(last) if last else None
        if limit is None or (last is not None and now - last <= limit):
            continue
        told = store.cursors.get(tenant.name, WATCHDOG_KEY.format(handoff=handoff))
        if told and now - datetime.fromisoformat(told) <= limit:
            continue  # ops were told within this window; once per window is enough
        silent.append((handoff, last))
    return silent


def silence_text(tenant: str, handoff: str, last: datetime | None, limit: timedelta) -> str:
    since = f"since {last:%Y-%m-%d %H:%M} UTC" if last else "ever"
    return (f":warning: *{handoff}* has not completed a run for tenant *{tenant}* {since} "
            f"(expected at least every {limit}). Check its deployment and worker in the Prefect UI.")


def digest_by_owner(store: Store, tenant: str, now: datetime) -> dict[str, str]:
    """Owner -> the morning digest text: open items per handoff and reason, and the oldest."""
    counts: dict[str, Counter] = defaultdict(Counter)
    oldest: dict[str, datetime] = {}
    for item in store.exceptions.list(tenant, status="open", limit=1_000_000):
        counts[item.owner][(item.handoff, item.reason_code)] += 1
        seen = as_utc(item.first_seen)
        oldest[item.owner] = min(oldest.get(item.owner, seen), seen)
    texts = {}
    for owner, by_reason in sorted(counts.items()):
        lines = [f"• {handoff}: {n} × {reason}" for (handoff, reason), n in by_reason.most_common(15)]
        days = (now - oldest[owner]).days
        texts[owner] = (f":inbox_tray: *{sum(by_reason.values())}* open exception item(s) for *{owner}* "
                        f"(tenant {tenant}; the oldest is {days} day(s) old)\n" + "\n".join(lines)
                        + f"\n`ledgerlink exceptions list --tenant {tenant} --owner {owner}`")
    return texts


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect `on_failure` / `on_crashed` hook. Never raises: an alert must not change how a run ends."""
    from ledgerlink.tenants import load_tenants, tenants_path

    try:
        tenant_name = (flow_run.parameters or {}).get("tenant", "demo")
        tenant = load_tenants(tenants_path()).get(tenant_name)
        if tenant is not None:
            post(tenant, None, failed_run_text(tenant_name, flow.name, str(flow_run.id), state.message))
    except Exception as error:  # noqa: BLE001 - the run's own log has the failure
        log.warning("the failure alert could not be sent: %s", type(error).__name__)


ALERT_HOOKS = {"on_failure": [alert_on_failure], "on_crashed": [alert_on_failure]}
