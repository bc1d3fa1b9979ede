"""Tenant credentials come from references: environment variables, or Prefect Secret blocks that
a team of workers shares through the Prefect server. A literal value in the file is refused."""

from __future__ import annotations

import pytest


def test_env_references_resolve_and_literals_are_refused(monkeypatch):
    from ledgerlink.tenants import TenantError, resolve_secret

    monkeypatch.setenv("ACME_TOKEN", "pat-123")
    assert resolve_secret("env:ACME_TOKEN") == "pat-123"
    with pytest.raises(TenantError, match="must look like env:NAME or prefect-secret:NAME"):
        resolve_secret("pat-123")
    with pytest.raises(TenantError, match="ACME_MISSING is not set"):
        resolve_secret("env:ACME_MISSING")


def test_prefect_secret_blocks_resolve_through_the_server(prefect_server):
    from prefect.blocks.system import Secret

    from ledgerlink.tenants import TenantError, resolve_secret

    Secret(value="xero-client-secret-42").save("acme-xero-client-secret", overwrite=True)
    assert resolve_secret("prefect-secret:acme-xero-client-secret") == "xero-client-secret-42"
    with pytest.raises(TenantError, match="no Prefect Secret block named 'karoo-missing'"):
        resolve_secret("prefect-secret:karoo-missing")
