"""The emulated Xero app: its tenants (organisations), OAuth credentials and control knobs.

One sandbox holds one connected app with one or more tenants; each tenant has its own books
(xero_books.XeroBooks). Tests and the seeder work on this object directly; the HTTP layer
(xero_app) reaches it through `lock`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from connectors.sandbox.faults import FaultInjector
from connectors.sandbox.gateway import Stats
from connectors.sandbox.limits import LimitSettings
from connectors.sandbox.timeutil import MonotonicMs
from connectors.sandbox.xero_auth import XeroAuth
from connectors.sandbox.xero_books import XeroBooks

DEFAULT_TENANT_ID = "7a1c4e2b-5d3f-4b8a-9c6e-0f2d1a3b5c7d"
DEFAULT_ORG_NAME = "Karoo Trading Demo (Pty) Ltd"


class XeroState:
    def __init__(self, *, tenant_id: str = DEFAULT_TENANT_ID, org_name: str = DEFAULT_ORG_NAME,
                 client_id: str = "sandbox-client", client_secret: str = "sandbox-secret",
                 refresh_token: str = "rt-sandbox-0", refresh_grace_s: float = 0.0,
                 idempotency_retention_s: float = 86_400.0, app_name: str = "ledgerlink sandbox") -> None:
        self.lock = threading.RLock()
        self.clock = MonotonicMs()
        self.faults = FaultInjector()
        self.stats = Stats()
        self.limit_settings = LimitSettings()
        self.auth = XeroAuth(self.limit_settings, client_id=client_id, client_secret=client_secret,
                             refresh_token=refresh_token, refresh_grace_s=refresh_grace_s)
        self.app_name = app_name
        self.idempotency_retention_s = idempotency_retention_s
        self.default_tenant_id = tenant_id.lower()
        self.tenants: dict[str, XeroBooks] = {}
        self.add_tenant(org_name, tenant_id)

    def add_tenant(self, name: str, tenant_id: str | None = None) -> XeroBooks:
        tenant = (tenant_id or str(uuid.uuid4())).lower()
        with self.lock:
            books = XeroBooks(tenant, name, self.clock, self.lock)
            self.tenants[tenant] = books
            return books

    def books(self, tenant_id: str | None = None) -> XeroBooks:
        """A tenant's books (the default tenant when none is named)."""
        return self.tenants[(tenant_id or self.default_tenant_id).lower()]

    @property
    def default_books(self) -> XeroBooks:
        return self.books()

    def is_empty(self) -> bool:
        return all(not any(b.records.values()) for b in self.tenants.values())

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {"vendor": "xero", "tenants": {
                tenant: {"name": books.org["Name"],
                         **{name: len(rows) for name, rows in books.records.items()}}
                for tenant, books in self.tenants.items()},
                "refreshes": self.auth.refresh_count}

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"format": "ledgerlink-sandbox-xero/1", "default_tenant_id": self.default_tenant_id,
                    "auth": self.auth.to_dict(),
                    "tenants": {t: b.to_dict() for t, b in self.tenants.items()}}

    def load_dict(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.default_tenant_id = data.get("default_tenant_id", self.default_tenant_id)
            self.auth.load_dict(data.get("auth", {}))
            self.tenants = {}
            for tenant, saved in data.get("tenants", {}).items():
                books = XeroBooks(tenant, saved["org"]["Name"], self.clock, self.lock)
                books.load_dict(saved)
                self.tenants[tenant] = books
