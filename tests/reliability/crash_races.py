"""Two runs of the same handoff for the same tenant, released at the same moment, and what they
sent to the accounting system between them.

Each child waits at its start and at the start of each handoff until every child has arrived,
so the runs really overlap (as two workers picking up the same schedule would), and `hold_first`
keeps the first create call in flight at the vendor until the other run has done its part, so
the overlap is the same on every machine. The accounting sandbox's taps note every record a
create call carried, so a record sent twice is seen even where the vendor's own idempotency
would have hidden it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from crash_child_handle import ChildRun
from crash_kill_plan import creates_contacts, creates_invoices


@dataclass
class Race:
    runs: list[ChildRun]
    invoices_sent: Counter = field(default_factory=Counter)  # reference -> times sent in a create
    contacts_sent: Counter = field(default_factory=Counter)  # CRM id -> times sent in a create

    @property
    def failures(self) -> list[str]:
        return [f"{run.log.name} ended {run.exit_code}:\n{run.log_tail()}" for run in self.runs if not run.completed]

    def counts(self, handoff: str, name: str) -> list[int]:
        return [run.counts.get(handoff, {}).get(name, 0) for run in self.runs]


def race(world, context, *handoffs: tuple[str, ...], start_when: list[Callable[[], bool]] | None = None) -> Race:
    """One child per entry of `handoffs` (what that run runs). They start their handoffs together,
    or each once its `start_when` condition holds."""
    result = Race([ChildRun(world, context, f"race-{n}", run) for n, run in enumerate(handoffs)])
    conditions = start_when or [lambda: True] * len(result.runs)
    untap = [side.stats.tap(_recorder(side.system, result)) for side in world.pair.sides()]
    try:
        for run in result.runs:
            run.start()
        live, waiting = list(result.runs), {}
        while live:
            for run in list(live):
                message = run.next_message(0.02)
                if message is None or message[0] == "done":
                    continue
                if message == ("exit",):
                    live.remove(run)
                elif message[0] in ("ready", "start"):
                    waiting.setdefault(message[0], []).append(run)
                else:
                    run.reply()
            _release(waiting, live, result.runs, conditions, together=start_when is None)
        for run in result.runs:
            run.finish()
    finally:
        for stop in untap:
            stop()
    return result


def _release(waiting: dict, live: list, runs: list, conditions: list, together: bool) -> None:
    """Everyone ready: go. Handoff starts: all together, or each when its condition holds."""
    if waiting.get("ready") and len(waiting["ready"]) >= len(live):
        for run in waiting.pop("ready"):
            run.reply()
    arrived = waiting.get("start", [])
    if together and arrived and len(arrived) >= len(live):
        for run in waiting.pop("start"):
            run.reply()
    elif not together:
        for run in [r for r in arrived if conditions[runs.index(r)]()]:
            arrived.remove(run)
            run.reply()


def _recorder(system: str, result: Race):
    def tap(call) -> None:
        if call.phase != "answered":
            return
        if creates_invoices(system, call):
            result.invoices_sent.update(_created(system, call.body, "Invoice", "Reference", "DocNumber"))
        elif creates_contacts(system, call):
            result.contacts_sent.update(_created(system, call.body, "Contact", "ContactNumber", "AcctNum"))
    return tap


def _created(system: str, body: bytes, entity: str, xero_key: str, qbo_key: str) -> list[str]:
    data = json.loads(body or b"{}")
    if system == "xero":
        return [item.get(xero_key) for item in data.get(f"{entity}s") or []]
    qbo_entity = "Customer" if entity == "Contact" else entity
    return [item[qbo_entity].get(qbo_key) for item in data.get("BatchItemRequest") or []
            if item.get("operation") == "create" and qbo_entity in item]


@dataclass
class Hold:
    held: int = 0  # calls held
    timed_out: bool = False  # the condition never came: the race did not happen as planned


def hold_first(world, match, until: Callable[[], bool], timeout_s: float = 60.0) -> Hold:
    """Hold the first call `match(system, call)` accepts at the vendor, before the vendor acts,
    until `until()` is true (checked off the emulator's thread); the tap stays until the world stops."""
    hold = Hold()

    async def wait() -> None:
        deadline = time.monotonic() + timeout_s
        while not await asyncio.to_thread(until):
            if time.monotonic() > deadline:
                hold.timed_out = True
                return
            await asyncio.sleep(0.05)

    def tap(system: str):
        def on_call(call):
            if call.phase == "arrived" and hold.held == 0 and match(system, call):
                hold.held += 1
                return wait()
            return None
        return on_call

    for side in world.pair.sides():
        side.stats.tap(tap(side.system))
    return hold
