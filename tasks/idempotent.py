"""Batched creates that survive crashes, retries and uncertain answers without doubling anything.

The write-intent protocol (see ledgerlink.store.write_intents) around any vendor batch create:
claim → mark sent → call with a deterministic Idempotency-Key → settle per item. When the vendor's
answer is lost (UncertainWrite) the records are looked up by their deterministic keys: found ones are
confirmed, missing ones are failed and re-sent once with a new batch — never re-sent blindly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

from connectors.errors import UncertainWrite
from ledgerlink.model import WriteResult
from ledgerlink.timestamps import as_utc
from ledgerlink.store.tables import IntentStatus
from ledgerlink.store.write_intents import UNSETTLED
from tasks.context import HandoffContext
from tasks.policy import intent_lease_seconds

CreateFn = Callable[[list, str], list[WriteResult]]
FindFn = Callable[[list[str]], dict[str, WriteResult]]
PersistFn = Callable[[dict[str, WriteResult]], None]


@dataclass
class CreateOutcome:
    created: dict[str, WriteResult]  # key -> the vendor's record (new, or found again by lookup)
    rejected: dict[str, WriteResult]  # key -> the vendor's validation errors
    in_flight: list[str]  # keys another live run holds; left alone this time


def idempotency_key(tenant: str, object_type: str, items: dict[str, str]) -> str:
    """Same batch content → same key, so a task retry replays instead of creating again."""
    text = "|".join([tenant, object_type, *(f"{key}={items[key]}" for key in sorted(items))])
    return "ll-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:60]


def create_batch(ctx: HandoffContext, object_type: str, items: dict[str, tuple[object, str]],
                 create: CreateFn, find: FindFn, persist: PersistFn, *, resend_once: bool = True) -> CreateOutcome:
    """items: key -> (payload object for `create`, request hash); len(items) ≤ the vendor's batch size.

    `persist` stores what was created (links) in the same transaction that confirms the intents, so a
    crash leaves either an unsettled intent that the next run settles by lookup, or both — never a
    confirmed intent with no link, nor a link whose audit event is written again.
    """
    store, tenant = ctx.store, ctx.tenant.name
    outcome = CreateOutcome({}, {}, [])
    _settle_stale(ctx, object_type, list(items), find, persist, outcome)
    hashes = {key: request_hash for key, (_, request_hash) in items.items()}
    key = idempotency_key(tenant, object_type, hashes)
    claimed = store.intents.claim(tenant, ctx.name, object_type, hashes, key, ctx.run_id)
    _recover_unclaimed(ctx, object_type, sorted(set(items) - set(claimed)), find, persist, outcome)
    if not claimed:
        return outcome
    store.intents.mark(tenant, object_type, claimed, IntentStatus.SENT)
    ctx.counts[f"{object_type}_create_calls"] += 1
    try:
        results = {result.key: result for result in create([items[k][0] for k in claimed], key)}
    except UncertainWrite:
        ctx.counts[f"{object_type}_uncertain"] += len(claimed)
        store.intents.mark(tenant, object_type, claimed, IntentStatus.UNCERTAIN)
        found = find(claimed)
        _finish(ctx, object_type, found, {}, persist, outcome)
        missing = [k for k in claimed if k not in found]
        if missing:
            store.intents.mark(tenant, object_type, missing, IntentStatus.FAILED, "not created (settled by lookup)")
            if resend_once:
                again = create_batch(ctx, object_type, {k: items[k] for k in missing}, create, find, persist,
                                     resend_once=False)
                outcome.created.update(again.created)
                outcome.rejected.update(again.rejected)
                outcome.in_flight.extend(again.in_flight)
            else:
                outcome.in_flight.extend(missing)
        return outcome
    created, rejected = {}, {}
    for k in claimed:
        result = results.get(k)
        if result is None:  # the vendor answered but skipped an item: settle by lookup, never guess
            result = find([k]).get(k) or WriteResult(k, False, errors=("the vendor did not answer for this record",))
        (created if result.ok else rejected)[k] = result
    _finish(ctx, object_type, created, rejected, persist, outcome)
    return outcome


def held_by_live_run(ctx: HandoffContext, intent) -> bool:
    """Another run that is still alive (and within the lease) owns this unsettled write.

    Our own run's leftovers (a task retry) are never held: tasks of one run send sequentially.
    """
    if intent.run_id == ctx.run_id:
        return False
    updated = as_utc(intent.updated_at)
    age = (datetime.now(timezone.utc) - updated).total_seconds()
    return age < intent_lease_seconds() and ctx.run_alive(intent.run_id)


QueueFn = Callable[[list[str]], None]


def _settle_stale(ctx: HandoffContext, object_type: str, keys: list[str], find: FindFn, persist: PersistFn,
                  outcome: CreateOutcome, queue_missing: QueueFn | None = None) -> list[str]:
    """Unsettled intents no live run holds are settled by lookup: found → confirmed (and persisted),
    missing → failed, so they can be claimed and sent again. Returns the missing keys.

    A failed intent is no longer unsettled, so no later run would look at it again: `queue_missing`
    records, in the same transaction, that those records still have to be sent (a crash before
    they are must not lose them)."""
    intents = ctx.store.intents.for_keys(ctx.tenant.name, object_type, keys)
    stale = [k for k, intent in intents.items() if intent.status in UNSETTLED and not held_by_live_run(ctx, intent)]
    if not stale:
        return []
    found: dict[str, WriteResult] = {}
    for part in chunked(stale, 50):
        found.update(find(list(part)))
    missing = [k for k in stale if k not in found]
    _finish(ctx, object_type, found, {}, persist, outcome)
    with ctx.store.transaction():
        ctx.store.intents.mark(ctx.tenant.name, object_type, missing, IntentStatus.FAILED,
                               "not found at the vendor after an interrupted write; sent again")
        if queue_missing is not None and missing:
            queue_missing(missing)
    ctx.counts[f"{object_type}_recovered_by_lookup"] += len(found)
    ctx.counts[f"{object_type}_recovered_missing"] += len(missing)
    return missing


def _recover_unclaimed(ctx: HandoffContext, object_type: str, keys: list[str], find: FindFn,
                       persist: PersistFn, outcome: CreateOutcome) -> None:
    """Keys we could not claim: confirmed earlier (re-find and re-persist, idempotent) or held by a
    live run (left alone)."""
    keys = [k for k in keys if k not in outcome.created]
    if not keys:
        return
    intents = ctx.store.intents.for_keys(ctx.tenant.name, object_type, keys)
    confirmed = [k for k in keys if intents.get(k) and intents[k].status == IntentStatus.CONFIRMED.value]
    outcome.in_flight.extend(k for k in keys if k not in confirmed)
    if confirmed:
        found = find(confirmed)
        persist(found)
        outcome.created.update(found)


def _finish(ctx: HandoffContext, object_type: str, created: dict[str, WriteResult],
            rejected: dict[str, WriteResult], persist: PersistFn, outcome: CreateOutcome) -> None:
    """Links, audit events and the settled intents in one transaction: a crash leaves the intents
    unsettled (settled again by lookup) or everything recorded — never a record audited twice."""
    with ctx.store.transaction():
        persist(created)
        ctx.store.intents.settle(ctx.tenant.name, object_type, [
            *({"record_key": k, "status": IntentStatus.CONFIRMED, "target_id": r.target_id} for k, r in created.items()),
            *({"record_key": k, "status": IntentStatus.FAILED, "detail": "; ".join(r.errors)[:2000]}
              for k, r in rejected.items()),
        ])
    outcome.created.update(created)
    outcome.rejected.update(rejected)


def chunked(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def settle_interrupted_keys(ctx: HandoffContext, object_type: str, keys: list[str], find: FindFn,
                            persist: PersistFn) -> CreateOutcome:
    """Settle these records' writes that an interrupted run left unsettled, before anything else is
    decided about them: what the vendor has is persisted and confirmed (`created`), what it lacks
    is failed so it can be sent again. Writes a live run still holds are left to it (`in_flight`)."""
    outcome = CreateOutcome({}, {}, [])
    _settle_stale(ctx, object_type, keys, find, persist, outcome)
    intents = ctx.store.intents.for_keys(ctx.tenant.name, object_type, [k for k in keys if k not in outcome.created])
    outcome.in_flight = [k for k, intent in intents.items()
                         if intent.status in UNSETTLED and held_by_live_run(ctx, intent)]
    return outcome


def settle_left_over(ctx: HandoffContext, object_type: str, find: FindFn, persist: PersistFn,
                     queue_missing: QueueFn | None = None) -> list[str]:
    """Settle what an earlier run left unsettled (it crashed or lost the answer) by lookup.

    Returns the keys that were not found at the vendor: their records must be processed again
    (and `queue_missing` makes that durable, see _settle_stale).
    """
    keys = [intent.record_key for intent in ctx.store.intents.unsettled(ctx.tenant.name, object_type)]
    return _settle_stale(ctx, object_type, keys, find, persist, CreateOutcome({}, {}, []), queue_missing)
