"""What a nightly reconciliation run found, written for the people who must act on it.

Finance opens the CSV in a spreadsheet, the owner reads the HTML page, the flow publishes the
markdown as a Prefect artifact and posts the Slack text. All four come from the same data so
they never disagree. Stdlib only, so rendering a report can never fail on a dependency.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CSV_HEADER = "class severity record_type crm_id accounting_id invoice_number detail action fixed".split()
NO_DATA = "no data"
TOP_CLASSES = 5  # Slack shows this many classes; the rest are one click away in the report
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
_MD_URL = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})
_HEALTH_TABLES = [
    ("Success rate by day", "success_rate_by_day", ["day", "runs", "succeeded"]),
    ("Volume by day", "volume_by_day", ["day", "created", "updated"]),
    ("Errors by day and reason", "errors_by_day", ["day", "reason", "count"]),
    ("Open exceptions by owner and age", "open_exceptions", ["owner", "age", "count"]),
]
_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        "margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "th{background:#f3f3f3}.high{color:#b00020}.medium{color:#a65e00}.none,.more{color:#666}")


@dataclass(frozen=True)
class Discrepancy:
    """One record that disagrees between CRM and accounting, plus what a person should do."""
    cls: str
    severity: str
    record_type: str
    crm_id: str | None
    accounting_id: str | None
    invoice_number: str | None
    detail: str
    action: str
    fixed: bool = False


@dataclass
class ReconSummary:
    """Totals of a run; small enough to keep whole, unlike the discrepancies themselves."""
    tenant: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int]
    fixed: dict[str, int]
    severities: dict[str, str]
    records_read: dict[str, int]
    health: dict
    run_url: str | None = None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR would start a formula."""
    text = _text(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(path: Path, discrepancies: Iterable[Discrepancy]) -> int:
    """Write every discrepancy, one row at a time, so a 100,000-row run needs no extra memory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for rows, d in enumerate(discrepancies, 1):
            writer.writerow([_safe_cell(v) for v in (
                d.cls, d.severity, d.record_type, d.crm_id, d.accounting_id,
                d.invoice_number, d.detail, d.action, "yes" if d.fixed else "no")])
    return rows


def _ordered_classes(summary: ReconSummary, extra: Iterable[str] = ()) -> list[str]:
    """Worst first (severity, then count), so the reader meets what matters before the rest."""
    return sorted(set(summary.counts) | set(extra),
                  key=lambda c: (_SEVERITY_RANK.get(summary.severities.get(c, ""), 3),
                                 -summary.counts.get(c, 0), c))


def _period(summary: ReconSummary) -> str:
    return (f"{summary.started_at.isoformat(timespec='minutes')} to "
            f"{summary.finished_at.isoformat(timespec='minutes')}")


def _is_web_url(url: str | None) -> bool:
    """Only http(s) becomes a link: a javascript: URL in a report would run when clicked."""
    return bool(url) and str(url).lower().startswith(("http://", "https://"))


def _health_lines(health: dict) -> dict[str, str]:
    """Latency and DSO as words; an empty or partial health dict reads "no data", never fails."""
    lat = health.get("latency_seconds") or {}
    latency = NO_DATA
    if isinstance(lat, dict) and lat.get("median") is not None:
        latency = (f"median {lat['median']} s, p95 {lat.get('p95', '?')} s "
                   f"({lat.get('samples', '?')} samples)")
    dso = health.get("dso_days")
    return {"Sync latency": latency, "DSO": NO_DATA if dso in (None, "") else f"{dso} days"}


def _rate(runs: object, succeeded: object) -> str:
    """Runs and successes are shown as well, so a rate that cannot be computed is left blank."""
    ok = isinstance(runs, int) and isinstance(succeeded, int) and runs > 0
    return f"{100 * succeeded / runs:.1f}%" if ok else ""


def _table(headers: list[str], rows: list[list[object]], empty: str = NO_DATA) -> str:
    """An HTML table with every cell escaped, or a short note when there is nothing to show."""
    if not rows:
        return f"<p class='none'>{empty}</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_html(path: Path, summary: ReconSummary, discrepancies: Iterable[Discrepancy],
               limit_per_class: int = 200) -> None:
    """One self-contained file a person can open or mail, every value escaped. Streams and keeps
    at most limit_per_class records per class: a long list is worked through in the CSV."""
    kept: dict[str, list[Discrepancy]] = {}
    seen: dict[str, int] = {}
    for d in discrepancies:
        seen[d.cls] = seen.get(d.cls, 0) + 1
        bucket = kept.setdefault(d.cls, [])
        if len(bucket) < limit_per_class:
            bucket.append(d)
    e = html.escape
    health = summary.health or {}
    classes = _ordered_classes(summary, seen)
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>Reconciliation: {e(summary.tenant)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Reconciliation: {e(summary.tenant)}</h1><p>{e(_period(summary))}</p>"]
    if _is_web_url(summary.run_url):
        out.append(f"<p><a href='{e(summary.run_url)}'>Open the run</a></p>")
    out.append("<h2>Summary</h2>" + _table(
        ["class", "severity", "found", "fixed automatically"],
        [[c, summary.severities.get(c, ""), summary.counts.get(c, seen.get(c, 0)),
          summary.fixed.get(c, 0)] for c in classes]))
    out.append("<h3>Records read</h3>"
               + _table(["kind", "records"], [[k, v] for k, v in summary.records_read.items()]))
    period = health.get("period_days")
    out.append(f"<h2>Health{e(f' (last {period} days)') if period else ''}</h2>")
    for title, key, fields in _HEALTH_TABLES:
        rows = [[r.get(f, "") for f in fields] for r in (health.get(key) or []) if isinstance(r, dict)]
        if key == "success_rate_by_day":
            fields, rows = fields + ["rate"], [r + [_rate(r[1], r[2])] for r in rows]
        out.append(f"<h3>{title}</h3>" + _table(fields, rows))
    out += [f"<p>{label}: {e(text)}</p>" for label, text in _health_lines(health).items()]
    for c in (c for c in classes if seen.get(c) or summary.counts.get(c)):  # skip empty classes
        records, sev = kept.get(c, []), summary.severities.get(c, "")
        out.append(f"<h2 class='{e(sev)}'>{e(c)} ({e(sev or 'unknown')})</h2>" + _table(
            ["record type", "CRM id", "accounting id", "invoice", "detail", "action", "fixed"],
            [[d.record_type, d.crm_id, d.accounting_id, d.invoice_number, d.detail, d.action,
              "yes" if d.fixed else "no"] for d in records], "no records listed"))
        if seen.get(c, 0) > len(records):
            out.append(f"<p class='more'>… and {seen[c] - len(records)} more in the CSV</p>")
    out.append("</body></html>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")


def _md(value: object) -> str:
    """Markdown-safe text: a | would split a table cell, < could start raw HTML."""
    return html.escape(_text(value), quote=False).replace("|", "\\|").replace("\n", " ")


def markdown_summary(summary: ReconSummary) -> str:
    """The short version for the Prefect artifact; the full lists live in the CSV and HTML."""
    lines = [f"## Reconciliation: {_md(summary.tenant)}", "", _md(_period(summary)), ""]
    classes = _ordered_classes(summary)
    if classes:
        lines += ["| class | severity | found | fixed |", "|---|---|---:|---:|"]
        lines += [f"| {_md(c)} | {_md(summary.severities.get(c, ''))} | {summary.counts.get(c, 0)} "
                  f"| {summary.fixed.get(c, 0)} |" for c in classes]
    else:
        lines.append("No discrepancies found.")
    read = ", ".join(f"{_md(k)} {v}" for k, v in summary.records_read.items()) or NO_DATA
    lines += ["", f"- Records read: {read}"]
    lines += [f"- {label}: {_md(text)}" for label, text in _health_lines(summary.health or {}).items()]
    if _is_web_url(summary.run_url):
        lines.append(f"- [Open the run]({summary.run_url.translate(_MD_URL)})")
    return "\n".join(lines) + "\n"


def _slack(value: object) -> str:
    """Slack mrkdwn treats & < > as control characters; everything else is literal."""
    return _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_summary(summary: ReconSummary, report_url: str | None = None) -> str:
    """A few lines that tell the channel whether anyone needs to look today."""
    total = sum(summary.counts.values())
    high = sum(n for c, n in summary.counts.items() if summary.severities.get(c) == "high")
    lines = [f"*Reconciliation: {_slack(summary.tenant)}*",
             f"{total} discrepancies ({high} high severity, "
             f"{sum(summary.fixed.values())} fixed automatically)"]
    ranked = sorted(((n, c) for c, n in summary.counts.items() if n), key=lambda t: (-t[0], t[1]))
    if ranked:
        lines.append("Top: " + ", ".join(f"{_slack(c)} {n}" for n, c in ranked[:TOP_CLASSES]))
    lines.append(f"DSO: {_slack(_health_lines(summary.health or {})['DSO'])}")
    links = [f"<{_slack(url).replace('|', '%7C')}|{label}>"
             for url, label in ((report_url, "Report"), (summary.run_url, "Run")) if _is_web_url(url)]
    if links:
        lines.append(" | ".join(links))
    return "\n".join(lines)


def crosses_threshold(summary: ReconSummary, thresholds: dict[str, int]) -> list[str]:
    """Why this run should alert someone; discrepancies fixed automatically never count.

    "any_high" compares the unfixed total of all high-severity classes with its value; a
    threshold of 0 or less switches its rule off, so an alert never fires on nothing.
    """
    unfixed = {c: max(n - summary.fixed.get(c, 0), 0) for c, n in summary.counts.items()}
    highs = [c for c in _ordered_classes(summary) if summary.severities.get(c) == "high" and unfixed[c]]
    reasons = []
    for key, limit in thresholds.items():
        if key == "any_high":
            n = sum(unfixed[c] for c in highs)
            if 0 < limit <= n:
                reasons.append(f"any_high: {n} unfixed high-severity ({', '.join(highs)}) ≥ {limit}")
        elif 0 < limit <= unfixed.get(key, 0):
            reasons.append(f"{key}: {unfixed[key]} ≥ {limit}")
    return reasons
