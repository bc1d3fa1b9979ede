"""What every handoff run does around its work: build the context, refuse configuration the tenant
has not checked (when it asks for that), record the configuration versions and the run, and —
however the run ends — finish the record, publish the report artifact and close the connectors.

A dry run works the same way on a scratch copy of the tenant's store, with its vendor writes
diverted into a plan (`tasks.dry_run`): the real store and both systems are left as they were. It
is never refused for unchecked configuration, because a dry run is how configuration is checked.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from ledgerlink import settings
from ledgerlink.config_versions import require_checked
from ledgerlink.plan import Plan
from ledgerlink.report import RunReport
from tasks.connect import handoff_context, run_is_alive
from tasks.context import HandoffContext
from tasks.report import publish_plan, publish_report


@contextmanager
def handoff_run(tenant: str, handoff: str, dry_run: bool = False) -> Iterator[HandoffContext]:
    """`with handoff_run(t, h) as ctx: ...` then `ctx.report` holds the run's RunReport (with the
    plan, for a dry run)."""
    started = time.monotonic()
    run_id = str(flow_run.id) if flow_run.id else None
    real = scratch = scratch_path = None
    if dry_run:
        from ledgerlink.store import open_store
        from ledgerlink.store.scratch import scratch_copy

        real = open_store()
        scratch_path = settings.home() / "tmp" / f"dry-run-{tenant}-{uuid.uuid4().hex[:8]}.sqlite"
        scratch = scratch_copy(real, tenant, scratch_path)
    ctx = handoff_context(tenant, handoff, run_id=run_id, run_alive=run_is_alive, store=scratch, token_store=real)
    if dry_run:
        from tasks.dry_run import PlanningAccounting, PlanningCrm

        ctx.plan = Plan()
        ctx.crm, ctx.accounting = PlanningCrm(ctx.crm, ctx.plan), PlanningAccounting(ctx.accounting, ctx.plan)
    try:
        if not dry_run:
            require_checked(ctx.tenant, ctx.config, ctx.store.config_history)
            ctx.store.config_history.record_use(ctx.config)
        run_pk = ctx.store.runs.start(tenant, ctx.spec.name, run_id)  # the store stamps ctx.config_version
    except BaseException:  # refused (or the store failed): the run never started
        ctx.close()
        raise
    status = "failed"
    try:
        yield ctx
        status = "completed"
    finally:
        plan = None
        if ctx.plan is not None:
            from tasks.dry_run import plan_exceptions

            plan_exceptions(ctx.plan, ctx.problems)
            plan = ctx.plan.as_dict(dict(ctx.counts))
        ctx.report = RunReport(tenant, ctx.spec.name, status, round(time.monotonic() - started, 2),
                               dict(ctx.counts), ctx.created, ctx.problems, ctx.api_stats(), run_id,
                               updated=ctx.updated, plan=plan)
        ctx.store.runs.finish(run_pk, status, ctx.report.counts, ctx.report.api)
        (publish_plan if plan is not None else publish_report)(quote(ctx.report))
        ctx.close()
        if scratch is not None:
            from ledgerlink.store.scratch import discard

            discard(scratch, scratch_path)
            real.dispose()
