"""The reconciliation report renderers, on real files: what finance opens must be safe and complete."""

from __future__ import annotations

import csv
import tracemalloc
import weakref
from datetime import datetime, timedelta, timezone

from ledgerlink.recon_report import (
    CSV_HEADER,
    Discrepancy,
    ReconSummary,
    crosses_threshold,
    markdown_summary,
    slack_summary,
    write_csv,
    write_html,
)

SAST = timezone(timedelta(hours=2))


def make_summary(**overrides) -> ReconSummary:
    values = dict(
        tenant="Café Ntombi (Pty) Ltd",
        started_at=datetime(2026, 11, 21, 2, 0, tzinfo=SAST),
        finished_at=datetime(2026, 11, 21, 2, 7, tzinfo=SAST),
        counts={"amount_mismatch": 3, "won_deal_without_invoice": 2, "status_mismatch": 5},
        fixed={"won_deal_without_invoice": 2, "status_mismatch": 1},
        severities={"amount_mismatch": "high", "won_deal_without_invoice": "high",
                    "status_mismatch": "low"},
        records_read={"deals": 1200, "invoices": 1180},
        health={
            "period_days": 30,
            "success_rate_by_day": [{"day": "2026-11-20", "runs": 12, "succeeded": 11}],
            "volume_by_day": [{"day": "2026-11-20", "created": 40, "updated": 12}],
            "errors_by_day": [{"day": "2026-11-20", "reason": "missing_company", "count": 3}],
            "open_exceptions": [{"owner": "finance", "age": "0-1 d", "count": 2}],
            "latency_seconds": {"median": "42.0", "p95": "310.0", "samples": 120},
            "dso_days": "37.4",
        },
        run_url="https://prefect.example/runs/abc",
    )
    values.update(overrides)
    return ReconSummary(**values)


def disc(cls="amount_mismatch", detail="Invoice total differs", **overrides) -> Discrepancy:
    values = dict(cls=cls, severity="high", record_type="invoice", crm_id="D-1",
                  accounting_id="INV-9", invoice_number="INV-0009", detail=detail,
                  action="Check the invoice lines.")
    values.update(overrides)
    return Discrepancy(**values)


def test_csv_round_trip_keeps_text_and_defuses_formulas(tmp_path):
    path = tmp_path / "out" / "nested" / "recon.csv"
    rows = [
        disc(detail="Café Ntombi (Pty) Ltd: R 1 150,00 in CRM, R 1 000,00 in accounting"),
        disc(cls="status_mismatch", severity="low", record_type="deal", crm_id="+27821234567",
             accounting_id="-42", invoice_number="@SUM(A1)", detail='=HYPERLINK("http://evil","x")',
             action="\tcmd", fixed=True),
        disc(cls="contact_missing", crm_id=None, accounting_id=None, invoice_number=None,
             detail="line one\nline two, \"quoted\"", action="\rreturn"),
    ]

    assert write_csv(path, iter(rows)) == 3

    with path.open(encoding="utf-8", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0] == CSV_HEADER == ["class", "severity", "record_type", "crm_id", "accounting_id",
                                     "invoice_number", "detail", "action", "fixed"]
    assert read[1] == ["amount_mismatch", "high", "invoice", "D-1", "INV-9", "INV-0009",
                       "Café Ntombi (Pty) Ltd: R 1 150,00 in CRM, R 1 000,00 in accounting",
                       "Check the invoice lines.", "no"]
    assert read[2] == ["status_mismatch", "low", "deal", "'+27821234567", "'-42", "'@SUM(A1)",
                       "'=HYPERLINK(\"http://evil\",\"x\")", "'\tcmd", "yes"]
    assert read[3] == ["contact_missing", "high", "invoice", "", "", "",
                       "line one\nline two, \"quoted\"", "'\rreturn", "no"]
    assert len(read) == 4


def test_csv_streams_a_hundred_thousand_rows(tmp_path):
    def many():
        for i in range(100_000):
            yield disc(crm_id=f"D-{i}", detail=f"Deal {i} won without an invoice")

    path = tmp_path / "big.csv"
    tracemalloc.start()
    try:
        written = write_csv(path, many())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written == 100_000
    with path.open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 100_001
    # Holding every row (9 strings each) would take tens of MB; streaming stays tiny.
    assert peak < 5_000_000, f"peak {peak} bytes: rows are being collected, not streamed"


def test_html_escapes_everything_user_provided(tmp_path):
    path = tmp_path / "site" / "recon.html"
    summary = make_summary(tenant="Smith & Sons <Pty>",
                           run_url="https://prefect.example/runs/abc?x=1&y='2'")
    write_html(path, summary, [disc(detail="Name was <script>alert(1)</script> & more",
                                    action="Ask <b>finance</b>")])

    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>finance" not in page
    assert "Name was &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "Ask &lt;b&gt;finance&lt;/b&gt;" in page
    assert "Smith &amp; Sons &lt;Pty&gt;" in page
    assert "href='https://prefect.example/runs/abc?x=1&amp;y=&#x27;2&#x27;'" in page
    assert "http://" not in page.replace("https://prefect.example", "")  # no external assets


def test_html_never_links_a_javascript_url(tmp_path):
    path = tmp_path / "recon.html"
    write_html(path, make_summary(run_url="javascript:alert(1)"), [])
    page = path.read_text(encoding="utf-8")
    assert "javascript:" not in page and "<a " not in page


def test_html_cuts_each_class_and_says_how_many_more(tmp_path):
    alive: list[weakref.ref] = []
    largest_alive = 0

    def stream():
        nonlocal largest_alive
        for i in range(1000):
            d = disc(cls="status_mismatch" if i % 2 else "amount_mismatch", detail=f"row-{i}-end")
            alive.append(weakref.ref(d))
            yield d
            del d
            largest_alive = max(largest_alive, sum(ref() is not None for ref in alive[-50:]))
        largest_alive = max(largest_alive, sum(ref() is not None for ref in alive))

    path = tmp_path / "recon.html"
    write_html(path, make_summary(), stream(), limit_per_class=3)

    page = path.read_text(encoding="utf-8")
    assert page.count("… and 497 more in the CSV") == 2
    assert "row-0-end" in page and "row-2-end" in page and "row-4-end" in page
    assert "row-6-end" not in page and "row-7-end" not in page
    # Classes without records in this run and no count get no section, classes with a count do.
    assert "<h2 class='high'>won_deal_without_invoice (high)</h2>" in page
    assert largest_alive <= 2 * 3 + 1, "write_html kept more records than limit_per_class"


def test_html_shows_the_health_section(tmp_path):
    path = tmp_path / "recon.html"
    write_html(path, make_summary(), [])
    page = path.read_text(encoding="utf-8")
    assert "Health (last 30 days)" in page
    assert "<td>2026-11-20</td><td>12</td><td>11</td><td>91.7%</td>" in page
    assert "<td>2026-11-20</td><td>missing_company</td><td>3</td>" in page
    assert "<td>finance</td><td>0-1 d</td><td>2</td>" in page
    assert "median 42.0 s, p95 310.0 s (120 samples)" in page
    assert "DSO: 37.4 days" in page
    assert "no data" not in page


def test_html_and_markdown_cope_with_an_empty_health(tmp_path):
    summary = make_summary(health={}, records_read={}, run_url=None)
    path = tmp_path / "recon.html"
    write_html(path, summary, [])
    page = path.read_text(encoding="utf-8")
    assert "<h2>Health</h2>" in page
    for title in ("Records read", "Success rate by day", "Volume by day", "Errors by day and reason",
                  "Open exceptions by owner and age"):
        assert f"<h3>{title}</h3><p class='none'>no data</p>" in page
    assert "<p>Sync latency: no data</p>" in page and "<p>DSO: no data</p>" in page

    text = markdown_summary(summary)
    assert "- DSO: no data" in text and "- Sync latency: no data" in text
    assert "- Records read: no data" in text and "Open the run" not in text

    partial = make_summary(health={"latency_seconds": {}, "dso_days": None, "volume_by_day": []})
    assert "- Sync latency: no data" in markdown_summary(partial)


def test_markdown_summary_lists_classes_worst_first():
    counts = {"amount_mismatch": 3, "won_deal_without_invoice": 7, "status_mismatch": 5}
    text = markdown_summary(make_summary(tenant="A | B", counts=counts))
    assert text.startswith("## Reconciliation: A \\| B\n")
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert table == ["| class | severity | found | fixed |",
                     "| won_deal_without_invoice | high | 7 | 2 |",
                     "| amount_mismatch | high | 3 | 0 |",
                     "| status_mismatch | low | 5 | 1 |"]
    assert "- Records read: deals 1200, invoices 1180" in text
    assert "- DSO: 37.4 days" in text
    assert "- Sync latency: median 42.0 s, p95 310.0 s (120 samples)" in text
    assert "- [Open the run](https://prefect.example/runs/abc)" in text


def test_slack_summary_escapes_control_characters():
    summary = make_summary(tenant="Smith & Sons <Pty>", counts={"a<b": 4, "amount_mismatch": 3},
                           fixed={}, severities={"a<b": "low", "amount_mismatch": "high"},
                           health={"dso_days": "37.4"})
    text = slack_summary(summary, report_url="https://files.example/r.html?a=1&b=2")
    assert "*Reconciliation: Smith &amp; Sons &lt;Pty&gt;*" in text
    assert "7 discrepancies (3 high severity, 0 fixed automatically)" in text
    assert "Top: a&lt;b 4, amount_mismatch 3" in text
    assert "DSO: 37.4 days" in text
    assert "<https://files.example/r.html?a=1&amp;b=2|Report> | <https://prefect.example/runs/abc|Run>" in text
    assert "<Pty>" not in text and "a<b" not in text and "& Sons" not in text


def test_crosses_threshold_counts_only_unfixed_and_any_high():
    summary = make_summary()  # amount 3 (high), won 2 all fixed (high), status 5 with 1 fixed (low)
    assert crosses_threshold(summary, {"amount_mismatch": 1, "status_mismatch": 5,
                                       "won_deal_without_invoice": 1, "any_high": 1}) == [
        "amount_mismatch: 3 ≥ 1",
        "any_high: 3 unfixed high-severity (amount_mismatch) ≥ 1",
    ]
    assert crosses_threshold(summary, {"status_mismatch": 4}) == ["status_mismatch: 4 ≥ 4"]
    assert crosses_threshold(summary, {"any_high": 4, "unknown_class": 1, "status_mismatch": 0}) == []
    assert crosses_threshold(summary, {"any_high": 0, "amount_mismatch": 0}) == []  # 0 = switched off

    all_high_fixed = make_summary(fixed={"amount_mismatch": 3, "won_deal_without_invoice": 2})
    assert crosses_threshold(all_high_fixed, {"any_high": 1}) == []
