"""How long the gate takes, printed for the record (not asserted: machines differ).

Measured in a fresh interpreter so the first call really pays for importing GX and building
the context, as the first gate of a Prefect worker does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # importable from a checkout, installed or not
SCRIPT = """
import runpy, sys, time
rows = runpy.run_path(sys.argv[1])  # the conftest's row builders (imports pytest, not GX)
started = time.perf_counter()
from expectations.gate import Gate
gate = Gate(rows["SUITE_PATH"], key_column="deal_id")
loaded = time.perf_counter()
gate.validate(rows["mixed_batch"](10), rows["TENANT_PARAMETERS"])
print(f"gate warm-up: load suite (imports GX) {loaded - started:.2f} s, "
      f"first validate (10 rows) {time.perf_counter() - loaded:.3f} s")
for size in (200, 5000):
    batch = rows["mixed_batch"](size)
    best = min(gate.validate(batch, rows["TENANT_PARAMETERS"]).seconds for _ in range(3))
    result = gate.validate(batch, rows["TENANT_PARAMETERS"])
    print(f"gate validate {size:>5} rows: {best:.3f} s best of 3 "
          f"({len(result.passed)} passed, {len(result.failed)} failed)")
"""


def test_print_validation_times(capsys):
    conftest = Path(__file__).with_name("conftest.py")
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(conftest)],
        capture_output=True, text=True, check=True, timeout=120, cwd=REPO,
    )

    with capsys.disabled():
        print("\n" + completed.stdout.strip())
