"""Two runs of the same handoff for the same tenant at once — two workers picking up the same
schedule — on SQLite and on PostgreSQL: nothing is sent to the accounting system twice, the
store's unique links and the write-intent protocol hold (the run that loses a record's race
leaves it to the other and says so in its counts), neither run fails, and the books end exactly
as one run alone leaves them.

The runs are child processes released into the handoff at the same moment, and the accounting
sandbox holds the first create call (before acting on it) until the other run has finished its
page, so the second run always meets the same records while the first one's write is in flight.
The sandbox notes every record each create call carried, so a record sent twice is caught even
where the vendor's Idempotency-Key would have hidden the duplicate.
"""

from __future__ import annotations

import pytest

from crash_kill_plan import creates_contacts, creates_invoices
from crash_loop import run_attempt
from crash_outcome import compare, fingerprint, snapshot
from crash_races import hold_first, race

pytestmark = pytest.mark.heavy  # a long file: started first (tests/conftest.py)

CONTACTS, DEALS = "contact-to-accounting-contact", "won-deal-to-invoice"


def _cursor_moved(world, handoff: str):
    """True once a run has finished a page of `handoff` (its cursor moved): the held run is still
    before that point, so the run that got there is the other one."""
    return lambda: world.store().cursors.get(world.tenant, handoff) is not None


def _assert_like_one_run(world, yardstick) -> None:
    result = compare(yardstick, fingerprint(snapshot(world, ledger_changes=False)))
    assert result.duplicates == []
    assert result.lost == []
    assert result.different == []


def test_two_contact_runs_at_once_create_each_customer_once(children, database_url, worlds, clean):
    yardstick = clean("hubspot", "xero").after_contacts
    world = worlds("hubspot", "xero", database_url)
    hold = hold_first(world, creates_contacts, until=_cursor_moved(world, CONTACTS))

    outcome = race(world, children, (CONTACTS,), (CONTACTS,))

    assert outcome.failures == [] and hold.held == 1 and not hold.timed_out
    assert sorted(outcome.counts(CONTACTS, "customers_in_flight_elsewhere")) == [0, len(outcome.contacts_sent)]
    assert outcome.contacts_sent and set(outcome.contacts_sent.values()) == {1}, outcome.contacts_sent
    assert sum(outcome.counts(CONTACTS, "customers_created")) == len(outcome.contacts_sent)
    _assert_like_one_run(world, yardstick)


def test_two_won_deal_runs_at_once_invoice_each_deal_once(children, database_url, worlds, clean):
    yardstick = clean("hubspot", "xero")
    world = worlds("hubspot", "xero", database_url)
    first = run_attempt(world, children, 1, None, handoffs=(CONTACTS,), pay=False)
    assert first.completed, first.child.log_tail()
    hold = hold_first(world, creates_invoices, until=_cursor_moved(world, DEALS))

    outcome = race(world, children, (DEALS,), (DEALS,))

    assert outcome.failures == [] and hold.held == 1 and not hold.timed_out
    assert set(outcome.invoices_sent.values()) == {1} and len(outcome.invoices_sent) == yardstick.eligible
    created, elsewhere = outcome.counts(DEALS, "invoices_created"), outcome.counts(DEALS, "invoices_in_flight_elsewhere")
    assert sum(created) == yardstick.eligible  # each invoice recorded by exactly one of the two runs
    assert created[0] + elsewhere[0] == created[1] + elsewhere[1] == yardstick.eligible  # the loser said so
    _assert_like_one_run(world, yardstick.after_deals)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the scale-out store; the logic is the same
def test_a_won_deal_run_meeting_a_customer_another_run_is_creating_loses_no_deal(children, database_url, worlds, clean):
    """The contact and won-deal handoffs run on their own schedules, so they overlap. A won-deal
    run that finds a deal's new customer being created by the contact run must not pass the deal
    by: the next won-deal run invoices it."""
    yardstick = clean("hubspot", "xero")
    world = worlds("hubspot", "xero", database_url)
    hold = hold_first(world, creates_contacts, until=_cursor_moved(world, DEALS))

    outcome = race(world, children, (CONTACTS,), (DEALS,), start_when=[lambda: True, lambda: hold.held == 1])

    assert outcome.failures == [] and not hold.timed_out
    assert set(outcome.contacts_sent.values()) == {1}
    waiting = outcome.counts(DEALS, "deals_waiting_on_customer_in_flight")[1]
    assert waiting > 0  # the race really happened, and the won-deal run said so
    following = run_attempt(world, children, 2, None, handoffs=(DEALS,), pay=False)  # the next scheduled run
    assert following.completed, following.child.log_tail()
    _assert_like_one_run(world, yardstick.after_deals)
