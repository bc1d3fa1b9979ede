"""tests/reliability. Bad-input properties: one deterministic Hypothesis profile, the gates built
once, and a tally. Crash and concurrency: their fixtures live in crash_fixtures.

The profile is derandomized (a failure found today is found again tomorrow, on every machine) and
keeps no example database in the worktree; LEDGERLINK_BAD_INPUT_PROFILE=bad-input-explore draws
fresh inputs instead. Example counts are sized so the whole folder, the
Great Expectations gates included, runs in well under a minute on two shared cores; importing GX
and loading a suite is the slow part, so each gate is built once per session.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # the badinput_* and crash_* helpers (tests have no packages)

from badinput_tally import TRIED  # noqa: E402
from crash_fixtures import children, clean, crashed, database_url, prefect_env, worlds  # noqa: E402,F401

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

settings.register_profile(
    "bad-input",
    derandomize=True,
    database=None,
    deadline=None,  # the first call through a gate imports GX; timing is not what is tested here
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
# The same properties on fresh random inputs each run, for looking further than the fixed sample.
settings.register_profile("bad-input-explore", settings.get_profile("bad-input"), derandomize=False)
settings.load_profile(os.environ.get("LEDGERLINK_BAD_INPUT_PROFILE", "bad-input"))

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def deal_gate():
    """The won-deal-to-invoice gate, exactly as the handoff loads it (one per session: GX is slow)."""
    from expectations.gate import Gate

    return Gate(ROOT / "expectations" / "won_deal_to_invoice.yaml", key_column="deal_id")


@pytest.fixture(scope="session")
def company_gate():
    """The finance-ready gate of contact-to-accounting-contact."""
    from expectations.gate import Gate

    return Gate(ROOT / "expectations" / "contact_to_accounting_contact.yaml", key_column="company_id")


def pytest_terminal_summary(terminalreporter):
    if not TRIED:
        return
    terminalreporter.section("bad-input properties: generated inputs tried")
    for name, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{name:<72} {count:>6}")
