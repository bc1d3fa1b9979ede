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
