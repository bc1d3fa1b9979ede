"""Publishing a run's report where ops look: a Prefect table artifact (and the flow's log)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from ledgerlink.report import RunReport


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(report: RunReport) -> None:
    key = f"{report.handoff}-{report.tenant}".lower()
    rows = report.table() or [{"deal": "", "outcome": "nothing to do", "invoice": "", "detail": ""}]
    create_table_artifact(key=key, table=rows, description=report.markdown())
    create_markdown_artifact(key=f"{key}-summary", markdown=report.markdown() + "\n```\n" + report.text() + "\n```\n")
    get_run_logger().info("%s", report.text())


@task(name="publish-plan", cache_policy=NO_CACHE)
def publish_plan(report: RunReport) -> None:
    """A dry run's plan, one row per planned action, where ops look before switching a handoff on."""
    key = f"{report.handoff}-{report.tenant}-dry-run".lower()
    rows = [{"action": e["action"], "system": e["system"], "object": e["object"], "record": e["record"],
             "detail": e["detail"], "changes": "; ".join(f"{k}: {b!r} -> {a!r}" for k, (b, a) in e["changes"].items())}
            for e in report.plan["entries"]] or [{"action": "nothing to do", "system": "", "object": "", "record": "",
                                                  "detail": "", "changes": ""}]
    create_table_artifact(key=key, table=rows, description=f"dry run of {report.handoff} for {report.tenant}")
    get_run_logger().info("%s", report.text())
