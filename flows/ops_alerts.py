"""Flows that keep ops informed: `watchdog` (hourly: a handoff that has not completed a run for
too long) and `exception-digest` (each morning: what waits for whom). Failed runs are reported by
the `on_failure` hook every handoff flow carries (tasks.ops_alerts.ALERT_HOOKS)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from ledgerlink.store import open_store
from ledgerlink.store.tables import utcnow
from ledgerlink.tenants import load_tenants, tenants_path
from tasks.ops_alerts import SILENCE_LIMITS, WATCHDOG_KEY, digest_by_owner, post, silence_text, silent_handoffs


@flow(name="watchdog", validate_parameters=True)
def watchdog(tenant: str = "demo") -> list[str]:
    """Report each enabled handoff with no completed run within its window (once per window)."""
    store, now = open_store(), utcnow()
    config = load_tenants(tenants_path())[tenant]
    reported = []
    for handoff, last in silent_handoffs(store, config, now):
        post(config, None, silence_text(tenant, handoff, last, SILENCE_LIMITS[handoff]))
        store.cursors.set(tenant, WATCHDOG_KEY.format(handoff=handoff), now.isoformat())
        reported.append(handoff)
    get_run_logger().info("silent handoffs for %s: %s", tenant, reported or "none")
    return reported


@flow(name="exception-digest", validate_parameters=True)
def exception_digest(tenant: str = "demo") -> dict[str, int]:
    """One message per owner of open exception items, to the owner's channel (or ops)."""
    store = open_store()
    config = load_tenants(tenants_path())[tenant]
    channels = config.slack.owner_channels if config.slack else {}
    sent = {}
    for owner, text in digest_by_owner(store, tenant, utcnow()).items():
        sent[owner] = int(post(config, channels.get(owner), text))
    return sent
