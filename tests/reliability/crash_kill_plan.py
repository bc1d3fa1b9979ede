"""Where a run is killed: points chosen deterministically from a seed, and the tap that kills.

A call point kills the child with SIGKILL from the sandbox's own thread, at the n-th call of
that attempt that matches it: `arrived` (the vendor has done nothing yet) or `answered` (the
vendor committed the write, the answer has not left; the child can never learn of it). A
commit point kills the child right after its n-th store transaction that wrote (a given table)
— the child does that to itself, see crash_child. Points may be scoped to one handoff. Counting
restarts with every attempt, so a plan reads "attempt 1 dies when Xero has accepted its first
contacts, attempt 2 when …".
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from dataclasses import dataclass
from typing import Callable

from connectors.sandbox.gateway import CallEvent

Match = Callable[[str, CallEvent], bool]  # (system, call) -> does it count

CONTACTS, DEALS, PAYMENTS = "contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm"
CI_SEED = 20240601  # picks where inside each window the CI subset kills


@dataclass(frozen=True)
class KillPoint:
    name: str  # the window it aims at, for reports
    nth: int
    phase: str = "answered"  # "arrived" or "answered" for a vendor call; "commit" for a store commit
    match: Match | None = None  # calls that count (None: any call)
    handoff: str | None = None  # count only while this handoff runs (None: the whole attempt)
    table: str | None = None  # commits that count: those writing this table (None: any write)

    @property
    def commit(self) -> bool:
        return self.phase == "commit"


def _qbo_batch(call: CallEvent, entity: str, operation: str) -> bool:
    if not call.path.endswith("/batch"):
        return False
    items = json.loads(call.body or b"{}").get("BatchItemRequest") or []
    return any(item.get("operation") == operation and entity in item for item in items)


def creates_contacts(system: str, call: CallEvent) -> bool:
    if system == "xero":
        return call.method == "PUT" and call.path.endswith("/Contacts")
    return system == "quickbooks" and _qbo_batch(call, "Customer", "create")


def creates_invoices(system: str, call: CallEvent) -> bool:
    if system == "xero":
        return call.method == "PUT" and call.path.endswith("/Invoices")
    return system == "quickbooks" and _qbo_batch(call, "Invoice", "create")


def updates_deals(system: str, call: CallEvent) -> bool:
    if system == "hubspot":
        return call.path == "/crm/v3/objects/deals/batch/update"
    return system == "pipedrive" and call.method == "PATCH" and call.path.startswith("/api/v2/deals/")


@dataclass(frozen=True)
class Profile:
    """What a clean run of the three handoffs does, which bounds where a kill can land."""

    calls: int  # vendor calls, both sides
    write_commits: int  # store transactions that wrote
    deal_updates: int  # calls writing invoice numbers onto deals (won deals)
    payment_updates: int  # calls writing payment status onto deals (payment status)


def ci_plan(seed: int, profile: Profile) -> list[KillPoint]:
    """One kill per attempt, each aimed at a window where a crash hurts, in the order a run meets
    them (so each is reached); the seed picks where inside a window (which write-back call)."""
    rng = random.Random(seed)
    return [
        KillPoint("accounting contacts created, not linked", 1, "answered", creates_contacts, CONTACTS),
        KillPoint("invoices accepted by accounting, not linked", 1, "answered", creates_invoices, DEALS),
        KillPoint("invoices linked, not written back to the deals", 1, "commit", handoff=DEALS, table="record_link"),
        KillPoint("written back, cursor not moved", rng.randint(1, profile.deal_updates), "answered",
                  updates_deals, DEALS),
        KillPoint("onboarding recorded as fired", 1, "commit", handoff=PAYMENTS, table="trigger_fired"),
        KillPoint("payment status written, not recorded", rng.randint(1, max(1, profile.payment_updates // 2)),
                  "answered", updates_deals, PAYMENTS),  # at most half: the run before did some
    ]


def survivable(system: str, call: CallEvent) -> bool:
    """Every call but one no client can survive losing the answer to: a QuickBooks token refresh.
    The emulator revokes the old refresh token at once (the strictest reading of Intuit's rules),
    so a process killed before it stores the new one is disconnected for good, however careful.
    (Xero documents a 30-minute grace for exactly this, and the worlds use it.)"""
    return not (system == "quickbooks" and call.path.endswith("/tokens/bearer"))


def soak_point(rng: random.Random, profile: Profile) -> KillPoint:
    """Anywhere in a whole run: any call (before or after the vendor acts), or any store commit."""
    if rng.random() < 0.3:
        return KillPoint("after a store commit", rng.randint(1, profile.write_commits), "commit")
    return KillPoint("at a vendor call", rng.randint(1, profile.calls), rng.choice(("arrived", "answered")),
                     survivable)


class CallKiller:
    """Tapped into both sandboxes of a world; kills `pid` at the point's n-th matching call, and
    notes every call the child makes (the clean run's profile)."""

    def __init__(self, pair, point: KillPoint | None):
        self.point = point if point is not None and not point.commit else None
        self.pid: int | None = None  # None while the parent itself calls the vendors
        self.handoff: str | None = None  # the handoff the child is running
        self.seen = 0
        self.fired = False
        self.answered: list[tuple[str, CallEvent, str | None]] = []  # (system, call, handoff)
        self._lock = threading.Lock()
        self._untap = [side.stats.tap(self._tap(side.system)) for side in pair.sides()]

    def _tap(self, system: str):
        def tap(call: CallEvent) -> None:
            if self.pid is None:
                return
            if call.phase == "answered":
                self.answered.append((system, call, self.handoff))
            point = self.point
            if point is None or call.phase != point.phase or (point.handoff and point.handoff != self.handoff):
                return
            if point.match is not None and not point.match(system, call):
                return
            with self._lock:
                self.seen += 1
                if self.seen != point.nth or self.fired:
                    return
                self.fired = True
            os.kill(self.pid, signal.SIGKILL)
        return tap

    def profile(self, write_commits: int) -> Profile:
        """The profile of the attempt this killer watched (a clean one: no point)."""
        def updates(handoff: str) -> int:
            return sum(1 for system, call, during in self.answered if during == handoff and updates_deals(system, call))

        return Profile(len(self.answered), write_commits, updates(DEALS), updates(PAYMENTS))

    def close(self) -> None:
        for untap in self._untap:
            untap()
