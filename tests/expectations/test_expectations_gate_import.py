"""Importing the gate stays cheap: Great Expectations loads only when a Gate is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # importable from a checkout, installed or not
PROBE = (
    "import sys, expectations, expectations.gate; "
    "print(sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules))"
)


def test_importing_the_gate_does_not_import_great_expectations_or_pandas():
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True, text=True, check=True, timeout=60, cwd=REPO,
    )

    assert completed.stdout.strip() == "[]"
