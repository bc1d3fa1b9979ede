"""The `update-linked` engine: changed source records update the records they are linked to.

Per page: follow links → named transform → derive rules → (optional gate) → render the target
properties → skip records whose rendered values did not change (checksum) → batched target update
(≤ 100) → sync state (checksum, revisit date) → declared triggers, each once per record → audit.
Everything specific to a handoff is in its spec; nothing here knows about payments.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.conditions import ConditionError
from ledgerlink.linked_spec import LinkedUpdateSpec
from ledgerlink.privacy import mask_emails
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException
from ledgerlink.transforms import TransformError, get_transform, render
from tasks.context import HandoffContext
from tasks.idempotent import chunked
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S
from tasks.record import raise_exceptions


def derive(spec: LinkedUpdateSpec, values: dict) -> dict:
    """Apply the spec's derive rules in order; the first rule that holds gives the value."""
    for name, rules in spec.derive.items():
        values[name] = next((rule.value for rule in rules if rule.condition.evaluate(values)), None)
    return values


def rendered_properties(spec: LinkedUpdateSpec, values: dict) -> dict[str, str]:
    text = {key: render(value) for key, value in values.items()}
    return {prop: template.format_map(text) for prop, template in spec.properties.items()}


def checksum(properties: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()


def _problem(ctx: HandoffContext, record_id: str, reason: str, detail: str) -> NewException:
    spec: LinkedUpdateSpec = ctx.spec
    return NewException(spec.source.object.rstrip("s"), record_id, reason, detail, spec.owner_for(reason))


@task(name="update-linked-records", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S,
      cache_policy=NO_CACHE)
def update_linked(ctx: HandoffContext, records: list) -> None:
    """records: canonical source records (`ledgerlink.ledger`), keyed by the spec's `source.id_field`."""
    spec: LinkedUpdateSpec = ctx.spec
    tenant, today = ctx.tenant.name, _today(ctx)
    ids = {str(getattr(r, spec.source.id_field)): r for r in records if getattr(r, spec.source.id_field, None)}
    links = (ctx.store.links.for_accounting_ids(tenant, spec.link, ids) if spec.source.system == "accounting"
             else ctx.store.links.for_crm_ids(tenant, spec.link, ids))
    known = ctx.store.sync_states.for_records(tenant, spec.name, [i for i in ids if i.lower() in links or i in links])
    problems: list[NewException] = []
    planned: dict[str, dict] = {}
    revisits: list[dict] = []
    for record_id, record in ids.items():
        link = links.get(record_id.lower()) or links.get(record_id)
        if link is None:
            ctx.counts["skipped_not_linked"] += 1  # not made by ledgerlink: not ours to mirror
            continue
        target_id = link.crm_id if spec.source.system == "accounting" else link.accounting_id
        try:
            values = derive(spec, get_transform(spec.transform)(record, ctx.tz))
            properties = rendered_properties(spec, values)
        except (TransformError, ConditionError, KeyError, ValueError, ArithmeticError) as err:
            problems.append(_problem(ctx, record_id, "unreadable_source", f"cannot read {record_id}: {err}"))
            continue
        digest = checksum(properties)
        revisit = values.get(spec.revisit) if spec.revisit else None
        state = {"record_id": record_id, "target_id": target_id, "checksum": digest, "values": properties,
                 "revisit_on": revisit if isinstance(revisit, date) and revisit > today else None,
                 "number": link.accounting_number, "raw": values}
        if record_id in known and known[record_id].checksum == digest:
            ctx.counts["skipped_unchanged"] += 1
            if known[record_id].revisit_on != state["revisit_on"]:
                revisits.append(state)  # nothing to write, but the next look is due on another day
            _fire_triggers(ctx, [state])  # a trigger whose condition already held still fires once
            continue
        planned[record_id] = state
    ctx.store.sync_states.save(tenant, spec.name, revisits)
    _write(ctx, _gate(ctx, planned, problems), known, problems)
    raise_exceptions(ctx, problems)


def _gate(ctx: HandoffContext, planned: dict[str, dict], problems: list[NewException]) -> dict[str, dict]:
    """The spec's expectations suite, if it names one, over the derived values (one row per record)."""
    spec: LinkedUpdateSpec = ctx.spec
    if not spec.expectations or not planned:
        return planned
    rows = [{"record_id": record_id, **state["raw"]} for record_id, state in planned.items()]
    result = ctx.gate_for(spec.expectations_path, "record_id").validate(
        rows, parameters={"tenant_currencies": list(ctx.tenant.currencies)})
    for record_id, failures in result.failed.items():
        problems.append(NewException(spec.source.object.rstrip("s"), record_id, failures[0].reason_code,
                                     "; ".join(f.message for f in failures), failures[0].owner))
    return {record_id: planned[record_id] for record_id in result.passed}


def _write(ctx: HandoffContext, planned: dict[str, dict], known: dict, problems: list[NewException]) -> None:
    spec: LinkedUpdateSpec = ctx.spec
    tenant = ctx.tenant.name
    by_target = {state["target_id"]: state for state in planned.values()}
    connector = ctx.crm if spec.target.system == "crm" else ctx.accounting
    for part in chunked(list(by_target), spec.batch_size):
        results = connector.batch_update(spec.target.object, {t: by_target[t]["values"] for t in part})
        done = [by_target[r.key] for r in results if r.ok]
        for result in results:
            if not result.ok:
                state = by_target[result.key]
                problems.append(_problem(ctx, state["record_id"], "target_rejected",
                                         f"{spec.target.system} rejected the update of {result.key}: "
                                         + ("; ".join(result.errors) or "no message")))
        with ctx.store.transaction():  # what was written, and its audit event: both or neither
            ctx.store.sync_states.save(tenant, spec.name, done)
            ctx.store.exceptions.resolve(tenant, spec.name, [s["record_id"] for s in done])
            ctx.store.audit.append(tenant, [
                NewAuditEvent(f"{spec.name}.updated", handoff=spec.name, run_id=ctx.run_id,
                              deal_id=s["target_id"] if spec.target.object == "deals" else None,
                              invoice_number=s["number"],
                              before=(known[s["record_id"]].values if s["record_id"] in known else None),
                              after=s["values"]) for s in done])
        ctx.counts["records_updated"] += len(done)
        for s in done:
            ctx.note("updated", {"target": s["target_id"], "source": s["number"], "values": mask_emails(
                ", ".join(f"{k.removeprefix('ledgerlink_')}={v}" for k, v in s["values"].items() if v))})
        _fire_triggers(ctx, done)


def _fire_triggers(ctx: HandoffContext, states: list[dict]) -> None:
    """Each declared trigger fires once per record: the event goes out first, under an id fixed by
    (tenant, handoff, trigger, record), and is delivered before the firing is recorded (with its
    audit event, in one transaction). A crash in between sends the same event again, which Prefect
    keeps once (events are unique by id); recording first would lose it for good."""
    spec: LinkedUpdateSpec = ctx.spec
    tenant = ctx.tenant.name
    for trigger in spec.triggers:
        for state in states:
            if not trigger.condition.evaluate(state["raw"]):
                continue
            if ctx.store.triggers.has_fired(tenant, spec.name, trigger.name, state["target_id"]):
                continue
            if ctx.plan is not None:  # a dry run says what would fire, and sends nothing
                ctx.plan.add("trigger", "ledgerlink", "event", state["target_id"],
                             f"{trigger.name}: {trigger.event} (invoice {state['number']})")
                ctx.counts[f"trigger_{trigger.name}"] += 1
                continue
            _emit(ctx, trigger, state)
            with ctx.store.transaction():
                if not ctx.store.triggers.fire_once(tenant, spec.name, trigger.name, state["target_id"], ctx.run_id):
                    continue  # another run recorded it meanwhile (its event had the same id)
                ctx.store.audit.append(tenant, [NewAuditEvent(
                    f"trigger.{trigger.name}", handoff=spec.name, run_id=ctx.run_id, invoice_number=state["number"],
                    deal_id=state["target_id"] if spec.target.object == "deals" else None,
                    after={"event": trigger.event, "when": trigger.when})])
            ctx.counts[f"trigger_{trigger.name}"] += 1


def _emit(ctx: HandoffContext, trigger, state: dict) -> None:
    from uuid import NAMESPACE_URL, uuid5

    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    spec: LinkedUpdateSpec = ctx.spec
    tenant = ctx.tenant.name
    event = emit_event(
        event=trigger.event, id=uuid5(NAMESPACE_URL, f"ledgerlink:{tenant}:{spec.name}:{trigger.name}:{state['target_id']}"),
        resource={"prefect.resource.id": f"ledgerlink.{tenant}.{spec.target.object}.{state['target_id']}",
                  "ledgerlink.tenant": tenant, "ledgerlink.trigger": trigger.name},
        payload={"record_id": state["record_id"], "target_id": state["target_id"],
                 "invoice_number": state["number"], "values": state["values"]})
    if event is not None:
        EventsWorker.instance().wait_until_empty()  # sent before it is recorded as fired


def _today(ctx: HandoffContext) -> date:
    from ledgerlink import transforms

    return transforms.today(ctx.tz)
