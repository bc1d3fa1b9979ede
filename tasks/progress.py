"""Progress of a long run on the terminal that started it: a bar by change time, and the counts.

A delta read has no total to count towards (vendors do not say how many changes wait), but it
does walk change times oldest first, from the cursor towards now (or a backfill's last day), so
the share of that span already read is an honest bar. Shown only when the CLI asks for it
(`LEDGERLINK_PROGRESS=1`) and stderr is a terminal; Prefect's logs get one line per work batch.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone

from ledgerlink.timestamps import epoch_ms

WIDTH = 28


def enabled() -> bool:
    return os.environ.get("LEDGERLINK_PROGRESS") == "1" and sys.stderr.isatty()


class Progress:
    def __init__(self, label: str, start_ms: int, end_ms: int | None = None) -> None:
        self.label, self.start_ms = label, start_ms
        self.end_ms = end_ms if end_ms is not None else epoch_ms(datetime.now(timezone.utc))
        self.started = time.monotonic()
        self.shown = enabled()

    def update(self, at_ms: int, counts: dict) -> None:
        if not self.shown:
            return
        span = max(self.end_ms - self.start_ms, 1)
        share = min(max((at_ms - self.start_ms) / span, 0.0), 1.0)
        bar = "#" * round(share * WIDTH)
        read, made, queued = counts.get("deals_read", 0), counts.get("invoices_created", 0), counts.get("exceptions", 0)
        rate = read / max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write(f"\r{self.label} [{bar:<{WIDTH}}] {share:4.0%}  {read:,} read · {made:,} invoiced · "
                         f"{queued:,} queued · {rate:,.0f}/s ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
