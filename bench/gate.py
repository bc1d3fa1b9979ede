"""The quality gate's cost: the first call of a fresh worker (GX's import, the context, the suite)
and one validation of 200 and of 5,000 won-deal rows, best of three.

    python -m bench.gate

Rows come from the expectations tests' builders (a mix of good and bad deals), so the figures are
for the suite the won-deal handoff runs. Prints figures, never asserts.
"""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

ROWS = Path(__file__).resolve().parents[1] / "tests" / "expectations" / "conftest.py"


def main() -> None:
    rows = runpy.run_path(str(ROWS))  # imports pytest, not GX
    started = time.perf_counter()
    from expectations.gate import Gate

    gate = Gate(rows["SUITE_PATH"], key_column="deal_id")
    loaded = time.perf_counter()
    gate.validate(rows["mixed_batch"](10), rows["TENANT_PARAMETERS"])
    print(f"cores {os.cpu_count()} · gate warm-up: load suite (imports GX) {loaded - started:.2f} s, "
          f"first validate (10 rows) {time.perf_counter() - loaded:.3f} s")
    for size in (200, 5000):
        batch = rows["mixed_batch"](size)
        best = min(gate.validate(batch, rows["TENANT_PARAMETERS"]).seconds for _ in range(3))
        result = gate.validate(batch, rows["TENANT_PARAMETERS"])
        print(f"gate validate {size:>5} rows: {best:.3f} s best of 3, {best / size * 1000:.2f} ms per row "
              f"({len(result.passed)} passed, {len(result.failed)} failed)")


if __name__ == "__main__":
    main()
