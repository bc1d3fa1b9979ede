"""The emulated QuickBooks Online app: one connected company (realm), its OAuth credentials and
the control knobs, shaped like XeroState so tests, the runner and the demo treat both alike.

The company starts with its settings (connectors.sandbox.quickbooks_seed.setup_company) but no
customers or transactions: `is_empty()` is about those, so a seeder knows when to run.
"""

from __future__ import annotations

import threading
from typing import Any

from connectors.sandbox.faults import FaultInjector
from connectors.sandbox.gateway import Stats
from connectors.sandbox.limits import LimitSettings
from connectors.sandbox.quickbooks_auth import QuickBooksAuth
from connectors.sandbox.quickbooks_books import TRANSACTIONS, QuickBooksBooks
from connectors.sandbox.quickbooks_seed import setup_company
from connectors.sandbox.timeutil import MonotonicMs

DEFAULT_REALM_ID = "9341453050298765"
STATE_FORMAT = "ledgerlink-sandbox-quickbooks/1"


class QuickBooksState:
    def __init__(self, *, realm_id: str = DEFAULT_REALM_ID, client_id: str = "qbo-sandbox-client",
                 client_secret: str = "qbo-sandbox-secret",
                 refresh_token: str = "qbo-rt-sandbox-0") -> None:
        self.lock = threading.RLock()
        self.clock = MonotonicMs()
        self.faults = FaultInjector()
        self.stats = Stats()
        self.limit_settings = LimitSettings()
        self.auth = QuickBooksAuth(self.limit_settings, client_id=client_id,
                                   client_secret=client_secret, refresh_token=refresh_token)
        self.realm_id = realm_id
        self.minor_versions: dict[str, int] = {}  # minorversion sent -> calls (clients must send one)
        self.books = QuickBooksBooks(realm_id, self.clock, self.lock)
        with self.lock:
            setup_company(self.books)

    def is_empty(self) -> bool:
        return not self.books.records["Customer"] and not any(
            self.books.records[e] for e in TRANSACTIONS)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {"vendor": "quickbooks", "realm_id": self.realm_id,
                    "entities": {e: len(rows) for e, rows in self.books.records.items()},
                    "deleted": {e: len(rows) for e, rows in self.books.deleted.items() if rows},
                    "refreshes": self.auth.refresh_count, "minor_versions": dict(self.minor_versions)}

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"format": STATE_FORMAT, "realm_id": self.realm_id, "auth": self.auth.to_dict(),
                    "books": self.books.to_dict()}

    def load_dict(self, data: dict[str, Any]) -> None:
        if data.get("format") != STATE_FORMAT:
            raise ValueError("not a ledgerlink QuickBooks sandbox state")
        with self.lock:
            self.realm_id = data.get("realm_id", self.realm_id)
            self.auth.load_dict(data.get("auth", {}))
            self.books = QuickBooksBooks(self.realm_id, self.clock, self.lock)
            self.books.load_dict(data["books"])
