"""tests/reliability: the harness modules sit next to the tests (tests have no packages), and
the crash and concurrency fixtures live in crash_fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from crash_fixtures import children, clean, crashed, database_url, prefect_env, worlds  # noqa: E402,F401
