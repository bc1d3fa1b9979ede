"""Killed at the moments that hurt, resumed until a run completes: the tenant's books end exactly
as an uninterrupted run leaves them, and no cursor ever passes a record whose effects are not
durable.

Each run is a child process running contacts → won deals → (customers pay) → payment status,
SIGKILLed at planned points (crash_kill_plan.ci_plan): after the accounting system accepted
contacts or invoices and before they were linked, right after the links were committed and
before the write-back, between the write-back and the cursor, right after an onboarding trigger
was recorded as fired, and after payment status reached a deal and before it was recorded. The
onboarding events are read back from Prefect. Both vendor pairs, because their write paths
differ: HubSpot + Xero (Idempotency-Key, batch update) and Pipedrive + QuickBooks (no key in
Pipedrive, one PATCH per deal; requestid and a DocNumber pre-check in QuickBooks). The two pairs
run side by side (the `crashed` fixture). The soak (tests/soak/soak_crash.py) does the same at
hundreds of random points.
"""

from __future__ import annotations

import pytest

from crash_outcome import compare

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

PAIRS = [pytest.param("hubspot", "xero", id="hubspot+xero"),
         pytest.param("pipedrive", "quickbooks", id="pipedrive+quickbooks")]


def _the_clean_run_is_right(clean) -> None:
    """The yardstick itself: one invoice per eligible deal, each number on its deal, nothing left open."""
    final = clean.final
    assert len(final.invoices) == clean.eligible and set(final.invoice_counts.values()) == {1}
    for reference in final.invoices:
        fields = dict(final.deals[reference.removeprefix("DEAL-")])
        assert fields["ledgerlink_invoice_number"] == f"the number of {reference}"
    assert final.unsettled == [] and set(final.contact_counts.values()) == {1}
    assert final.events and set(final.events.values()) == {1}  # a deposit paid: onboarding, once


@pytest.mark.parametrize("crm, accounting", PAIRS)
def test_runs_killed_at_every_risky_moment_end_exactly_like_a_clean_run(crashed, crm, accounting):
    outcome = crashed(crm, accounting)
    _the_clean_run_is_right(outcome.clean)
    run = outcome.run

    assert run.failures == [], "a resumed run failed"
    assert run.unreached == [] and run.kills == len(outcome.plan), [a.point for a in run.attempts]
    assert run.violations == [], "a cursor passed records whose effects were not durable"
    assert run.cursor_records_checked > 0  # the check saw cursors that had passed records
    result = compare(outcome.clean.final, outcome.final)
    assert result.duplicates == []
    assert result.lost == []
    assert result.different == []
