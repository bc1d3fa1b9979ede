"""Session-wide fixtures shared by every test folder.

Real parts only: a real SQLite file, the local PostgreSQL (one throw-away schema per session),
and one Prefect test server for the whole session (a harness costs ~10 s, so never per test).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("LEDGERLINK_TASK_RETRY_DELAY_SECONDS", "0")  # task retries stay, the waiting goes

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(items):
    """Files marked `heavy` go first. Each worker takes a whole file at a time, so a long file
    picked up last would keep one worker busy for minutes while the other sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.fixture(scope="session")
def postgres_schema_url():
    """A fresh schema in the local PostgreSQL for this session, dropped afterwards.

    PostgreSQL is part of the supported stack, so an unreachable server fails the tests loudly
    rather than skipping them (set LEDGERLINK_SKIP_POSTGRES=1 only on a machine without one).
    """
    if os.environ.get("LEDGERLINK_SKIP_POSTGRES") == "1":
        pytest.skip("LEDGERLINK_SKIP_POSTGRES=1: PostgreSQL tests switched off on this machine")
    from sqlalchemy import create_engine, text

    schema = f"ll_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A migrated Store on each supported backend (PostgreSQL tables emptied per test)."""
    from ledgerlink.store import open_store

    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        store = open_store(request.getfixturevalue("postgres_schema_url"))
        _truncate(store)
    yield store
    store.dispose()


def _truncate(store) -> None:
    from sqlalchemy import text

    with store.engine.begin() as connection:
        connection.execute(text(
            "TRUNCATE record_link, sync_cursor, write_intent, exception_item, audit_event, "
            "audit_chain_head, oauth_token, sync_run, sync_state, trigger_fired, approval_request, config_version "
            "RESTART IDENTITY"
        ))


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server (SQLite, temporary) for the whole session: a harness costs ~10 s.

    Flow-run heartbeats (crash detection for long runs) are off: the engine joins the heartbeat
    thread at the end of every run, which cost ~0.5 s per flow run here and tests nothing of ours.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60), \
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
