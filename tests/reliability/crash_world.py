"""One tenant's world for crash and concurrency tests: a seeded CRM + accounting sandbox pair, a
store (SQLite file or a PostgreSQL schema), the tenants file, and what a child process needs.

Two worlds built from the same seed start identical, so a run that was killed many times can be
compared with a clean run record by record. The parent process reads both sides only as a
second user of the vendors' APIs would (the connectors with a token of its own), never through
the store under test, and it simulates customers paying the same invoices, chosen by reference.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

SEED, DEALS = 42, 60
XERO_REFRESH_GRACE_S = 1800  # developer.xero.com/faq/oauth2: "retry ... for a grace period of 30 minutes"
PAIRS = {("hubspot", "xero"): "demo", ("pipedrive", "quickbooks"): "demo-pipedrive-quickbooks"}


_ENVIRON = threading.RLock()  # worlds are built and read from several threads (crash runs side by side)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, restored afterwards (tenant secrets are read from it); one
    thread at a time, since os.environ is the whole process's."""
    with _ENVIRON:
        before = dict(os.environ)
        os.environ.update(values)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(before)


@dataclass
class World:
    crm: str
    accounting: str
    home: Path
    database_url: str
    pair: object  # connectors.sandbox.pairs.SandboxPair
    tenant: str
    env: dict[str, str] = field(default_factory=dict)  # what a child process needs in its environment
    paid: bool = False  # the customers have paid (once per world, after won deals)
    _store: object = None

    def child_env(self, **extra: str) -> dict[str, str]:
        return {**self.env, **extra}

    def store(self):  # noqa: ANN201 - ledgerlink.store.Store
        """The store under test, opened by the parent to look at it (never to change it)."""
        if self._store is None:
            from ledgerlink.store import open_store

            self._store = open_store(self.database_url)
        return self._store

    @contextlib.contextmanager
    def observer(self) -> Iterator["Observer"]:
        observer = Observer(self)
        try:
            yield observer
        finally:
            observer.close()

    def pay(self) -> list[str]:
        """Customers pay in the accounting sandbox, as in the demo: in full, a 50 % deposit, a
        part payment and a credit note — on the four lowest deal references, so every world pays
        the same invoices whatever numbers its accounting system gave them."""
        from flows.demo import simulate_payments

        with self.observer() as observer:
            invoices = [i for i in observer.invoices() if (i.reference or "").startswith("DEAL-")]
        chosen = sorted(invoices, key=lambda i: int(i.reference.removeprefix("DEAL-")))[:4]
        return simulate_payments(self.pair, [i.number for i in chosen])

    def calls(self) -> int:
        return self.pair.calls()

    def stop(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None
        self.pair.stop(save=False)


def open_world(crm: str, accounting: str, home: Path, database_url: str | None = None) -> World:
    """A freshly seeded pair and an empty store; the tenants file is written into `home`."""
    from connectors.sandbox.pairs import start_pair
    from flows.demo import demo_tenants_file

    home.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{home / 'store.db'}"
    pair = start_pair(crm, accounting, seed=SEED, limits=False, deals=DEALS)
    if accounting == "xero":  # as Xero documents: a refresh token stays usable for 30 minutes after
        pair.accounting.state.auth.refresh_grace_s = XERO_REFRESH_GRACE_S  # its refresh, in case the answer was lost
    tenant = f"{PAIRS[(crm, accounting)]}-{uuid.uuid4().hex[:6]}"  # its Prefect events are its own
    with _ENVIRON, environment({}):  # demo_tenants_file puts the tenant's secrets into os.environ
        before = dict(os.environ)
        demo_tenants_file(home, pair, rate_limits=False, tenant=tenant)
        env = {key: value for key, value in os.environ.items() if before.get(key) != value}
    env.update(LEDGERLINK_HOME=str(home), LEDGERLINK_DATABASE_URL=url)
    return World(crm, accounting, home, url, pair, tenant, env)


class Observer:
    """Both vendors read through ledgerlink's own connectors, as a second API user: the
    accounting side with a freshly issued access token (never the tenant's rotating refresh
    token, which belongs to the runs under test)."""

    def __init__(self, world: World):
        from ledgerlink.spec import load_spec
        from ledgerlink.store import open_store
        from ledgerlink.tenants import load_tenants
        from tasks.connect import accounting_connector, crm_connector

        self.world = world
        self._tokens = open_store(f"sqlite:///{world.home / 'observer-tokens.db'}")
        access, _ = world.pair.accounting.state.auth.issue_access_token()
        expires = datetime.now(timezone.utc) + timedelta(minutes=25)
        self._tokens.tokens.save(world.tenant, world.accounting, access, "observer-never-refreshes", expires)
        with environment(world.env):
            tenant = load_tenants(Path(world.env["LEDGERLINK_TENANTS"]))[world.tenant]
            self.crm = crm_connector(tenant)
            self.accounting = accounting_connector(tenant, self._tokens)
        crm = world.crm
        self.deal_properties = sorted({*load_spec("won-deal-to-invoice").mapping_for(crm).writeback,
                                       *load_spec("payment-to-crm").properties})
        self.company_properties = sorted(load_spec("contact-to-accounting-contact").writeback)

    def crm_records(self, object_type: str) -> dict[str, tuple[int, dict]]:
        """id -> (change time in epoch ms as the connector reads it, the properties ledgerlink writes)."""
        wanted = self.deal_properties if object_type == "deals" else self.company_properties
        found: dict[str, tuple[int, dict]] = {}
        for page in self.crm.search_modified_since(object_type, 0, wanted, 200):
            for record in page:
                properties = record.get("properties") or {}
                found[str(record["id"])] = (self.crm.modified_ms(object_type, record),
                                            {name: properties.get(name) for name in wanted})
        return found

    def invoices(self) -> list:
        return [invoice for page in self.accounting.invoices_modified_since(None) for invoice in page]

    def contacts(self) -> list:
        return [contact for page in self.accounting.contacts_modified_since(None) for contact in page]

    def changes(self, kind: str) -> list:
        read = {"payments": self.accounting.payments_modified_since,
                "credit_notes": self.accounting.credit_notes_modified_since}[kind]
        return [change for page in read(None) for change in page]

    def close(self) -> None:
        self.crm.close()
        self.accounting.close()
        self._tokens.dispose()
