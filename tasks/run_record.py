"""What every handoff run does around its work: build the context, refuse configuration the tenant
has not checked (when it asks for that), record the configuration versions and the run, and —
however the run ends — finish the record, publish the report artifact and close the connectors."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from ledgerlink.config_versions import require_checked
from ledgerlink.report import RunReport
from tasks.connect import handoff_context, run_is_alive
from tasks.context import HandoffContext
from tasks.report import publish_report


@contextmanager
def handoff_run(tenant: str, handoff: str) -> Iterator[HandoffContext]:
    """`with handoff_run(t, h) as ctx: ...` then `ctx.report` holds the run's RunReport."""
    started = time.monotonic()
    run_id = str(flow_run.id) if flow_run.id else None
    ctx = handoff_context(tenant, handoff, run_id=run_id, run_alive=run_is_alive)
    try:
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
        ctx.report = RunReport(tenant, ctx.spec.name, status, round(time.monotonic() - started, 2),
                               dict(ctx.counts), ctx.created, ctx.problems, ctx.api_stats(), run_id,
                               updated=ctx.updated)
        ctx.store.runs.finish(run_pk, status, ctx.report.counts, ctx.report.api)
        publish_report(quote(ctx.report))
        ctx.close()
