"""Runs a tenant's handoffs in child processes, kills them at planned points, and resumes until a
run completes: the loop every crash test and the soak share.

After every kill the world is inspected before anything resumes (the cursor rule, see
crash_cursor_check). A clean run of an identically seeded world is the yardstick: what it leaves after
contacts, after won deals and at the end, and how many calls and store commits it takes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable

import crash_child
from crash_child_handle import ChildRun
from crash_cursor_check import cursor_violations
from crash_kill_plan import CallKiller, KillPoint, Profile
from crash_outcome import Fingerprint, fingerprint, snapshot


@dataclass
class Attempt:
    number: int
    point: KillPoint | None
    child: ChildRun
    profile: Profile | None = None  # what the run did at the vendors

    @property
    def killed(self) -> bool:
        return self.child.killed

    @property
    def completed(self) -> bool:
        return self.child.completed


@dataclass
class CrashRun:
    attempts: list[Attempt] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # cursor-rule breaks seen at kills
    unreached: list[str] = field(default_factory=list)  # planned kills a run finished before
    failures: list[str] = field(default_factory=list)  # runs that ended in an error
    cursor_records_checked: int = 0  # records found passed by a cursor at a kill, and checked

    @property
    def kills(self) -> int:
        return sum(1 for a in self.attempts if a.killed)


def run_attempt(world, context, number: int, point: KillPoint | None, *,
                handoffs: tuple[str, ...] = crash_child.HANDOFFS, pay: bool = True,
                after: Callable[[str, CallKiller], None] | None = None) -> Attempt:
    """One child run, killed at `point` if it gets there. `after(handoff, killer)` runs in the
    parent after each handoff, while the child waits. Customers pay (once per world, if `pay`)
    after won deals."""
    kill_at_commit = (point.nth, point.handoff, point.table) if point and point.commit else None
    child = ChildRun(world, context, f"attempt-{number:03d}", handoffs, kill_at_commit)
    killer = CallKiller(world.pair, point)
    try:
        child.start()
        while (message := child.next_message()) != ("exit",):
            if message is None or message[0] == "done":
                continue
            if message[0] == "ready":
                killer.pid = child.pid
            elif message[0] == "start":
                killer.handoff = message[1]
            elif message[0] == "after":
                killer.handoff = None
                with quiet(killer):
                    if after is not None:
                        after(message[1], killer)
                    if pay and message[1] == "won-deal-to-invoice" and not world.paid:
                        world.pay()
                        world.paid = True
            child.reply()
        child.finish()
    finally:
        killer.close()
    return Attempt(number, point, child, killer.profile(child.commits or 0))


@contextlib.contextmanager
def quiet(killer: CallKiller):
    """The parent's own calls (paying, looking) are not the child's and must not count."""
    pid, killer.pid = killer.pid, None
    try:
        yield
    finally:
        killer.pid = pid


@dataclass
class Clean:
    after_contacts: Fingerprint
    after_deals: Fingerprint
    final: Fingerprint
    profile: Profile
    seconds: float
    eligible: int  # won deals the seed made without a defect: each must end as one invoice


def clean_run(world, context) -> Clean:
    """The yardstick: one uninterrupted run, looked at after each handoff."""
    seen: dict[str, Fingerprint] = {}

    def look(handoff: str, killer: CallKiller) -> None:
        if handoff != "payment-to-crm":
            seen[handoff] = fingerprint(snapshot(world, ledger_changes=False))

    result = run_attempt(world, context, 0, None, after=look)
    if not result.completed:
        raise AssertionError(f"the clean run did not complete ({result.child.exit_code}):\n{result.child.log_tail()}")
    final = fingerprint(snapshot(world, events=True))
    report = world.pair.seed_report
    eligible = report.won_deals - sum(len(ids) for ids in report.bad_deals.values())
    return Clean(seen["contact-to-accounting-contact"], seen["won-deal-to-invoice"], final, result.profile,
                 result.child.seconds, eligible)


def crash_until_complete(world, context, plan: list[KillPoint], clean: Fingerprint, *,
                         max_failures: int = 3, first: int = 1, use_up_plan: bool = True) -> CrashRun:
    """Attempt after attempt, each killed at the plan's next point, until a run completes with
    the plan used up (or, without `use_up_plan`, until the first run completes). Every kill is
    followed by the cursor check."""
    run, points, number = CrashRun(), list(plan), first
    while True:
        point = points.pop(0) if points else None
        attempt = run_attempt(world, context, number, point)
        run.attempts.append(attempt)
        number += 1
        if attempt.killed:
            problems, checked = cursor_violations(snapshot(world), clean)
            where = point.name if point else "an unplanned kill"
            run.violations += [f"after kill {attempt.number} ({where}): {v}" for v in problems]
            run.cursor_records_checked += checked
            continue
        if not attempt.completed:
            run.failures.append(f"attempt {attempt.number} ended {attempt.child.exit_code}:\n{attempt.child.log_tail()}")
            if len(run.failures) >= max_failures:
                return run
            continue
        if point is not None:
            run.unreached.append(f"attempt {attempt.number} finished before '{point.name}' (#{point.nth})")
        if not points or not use_up_plan:
            return run
