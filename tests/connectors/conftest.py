"""Fixtures for connector tests: a scripted local HTTP server, a fake clock, the sandboxes."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for connector_testkit (no tests/__init__.py)

from connector_testkit import FakeClock, ScriptedServer  # noqa: E402

from connectors.ratelimit import REGISTRY  # noqa: E402


@pytest.fixture
def server():
    srv = ScriptedServer()
    yield srv
    srv.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening: connecting fails before any byte is sent."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_limiters():
    """Each test gets fresh process-wide budgets, so one test's calls never slow another."""
    REGISTRY.clear()
    yield
    REGISTRY.clear()


# -- sandboxes ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandboxes():
    """Both emulators, vendor limits off (tests that study limits switch them on themselves)."""
    from connectors.sandbox import start_sandboxes

    running = start_sandboxes(limits=False)
    yield running
    running.stop(save=False)


@pytest.fixture
def token_store(sandboxes, tmp_path):
    """A JSON token file holding the sandbox's current (rotating) refresh token."""
    from datetime import datetime, timedelta, timezone

    from connectors.oauth import JsonFileTokenStore, TokenSet

    store = JsonFileTokenStore(tmp_path / "tokens.json")
    store.save("acme", "xero", TokenSet.of(
        sandboxes.xero_access_token(), sandboxes.xero_refresh_token,
        datetime.now(timezone.utc) + timedelta(minutes=30)))
    return store


@pytest.fixture
def xero(sandboxes, token_store):
    from connectors.xero import XeroConnector

    connector = XeroConnector(sandboxes.xero_api_url, sandboxes.xero_tenant_id, token_store,
                              sandboxes.xero_client_id, sandboxes.xero_client_secret,
                              sandboxes.xero_token_url, "acme", limits=None)
    yield connector
    connector.close()

