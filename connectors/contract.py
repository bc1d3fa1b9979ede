"""The two connector protocols: what every CRM and every accounting connector offers.

The handoffs talk only to these, so any CRM pairs with any accounting system with no code written
for the pair. A new vendor is one module implementing one protocol, one sandbox emulator, and one
line in the shared contract test suite (`tests/connectors/contract/`), which checks the promises
written here against the vendor's sandbox.

CRM records travel as `{"id": str, "properties": {name: text}}` — every value as text (or None),
as HubSpot sends it, so comparisons and checksums mean the same on every CRM — with the vendor's
own property names (a handoff spec maps them per CRM: `crm: {hubspot: ..., pipedrive: ...}`). Object types are
ledgerlink's words — `deals`, `companies`, `line_items`, `contacts` — which each connector maps to
its vendor's objects. Accounting records come back as the canonical types of `ledgerlink.ledger`;
what goes in is the canonical `Party` and `Invoice` of `ledgerlink.model`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from ledgerlink.ledger import LedgerChange, LedgerContact, LedgerInvoice, LedgerTaxRate
from ledgerlink.model import Invoice, Party, WriteResult


@runtime_checkable
class CrmConnector(Protocol):
    vendor: str
    change_time_resolution_ms: int  # 1 when change times are stamped in ms; 1000 for whole seconds

    @property
    def stats(self) -> Any:
        """The connector's `connectors.http.HttpStats` (calls, retries, 429s, latency)."""

    def close(self) -> None: ...

    def modified_property(self, object_type: str) -> str:
        """The property that holds a record's last change time (in every record this connector
        returns): the cursor of a delta read, and what a checksum must ignore."""

    def modified_ms(self, object_type: str, record: Mapping[str, Any]) -> int:
        """A record's last change time in epoch milliseconds (0 when unknown)."""

    def search_modified_since(self, object_type: str, since_ms: int, properties: list[str],
                              page_size: int = 200, unless_set: str | None = None) -> Iterator[list[dict]]:
        """Pages of records changed at or after `since_ms`, oldest change first, each change once
        per call even when records change while the pages are read (a record changed again after
        it was read comes again, at its new change time). `unless_set` is a hint: a CRM whose
        search can leave out records that already hold that property does so (a handoff's own
        write-backs are then not read back as changes); others ignore it."""

    def batch_read(self, object_type: str, ids: Iterable[str], properties: Sequence[str]) -> dict[str, dict]:
        """Records by id in as few calls as the vendor allows; unknown ids are left out (and listed
        in the answer's `.missing` attribute)."""

    def read_associations(self, from_type: str, to_type: str, ids: Iterable[str]) -> dict[str, list[str]]:
        """Associated ids per requested id (deals → companies: the primary company first; deals →
        line_items in the CRM's order); no association is an empty list."""

    def batch_update(self, object_type: str, updates: Mapping[str, Mapping[str, str]]) -> list[WriteResult]:
        """Set properties on records, one `WriteResult` per id (key = the record id). Idempotent:
        sending the same values again changes nothing and creates nothing."""


@runtime_checkable
class AccountingConnector(Protocol):
    vendor: str
    change_time_resolution_ms: int
    max_batch: int  # invoices or contacts per create call (Xero 50, QuickBooks 30)

    @property
    def stats(self) -> Any: ...

    def close(self) -> None: ...

    # -- reference data
    def tax_rates(self) -> list[LedgerTaxRate]:
        """Every sales tax code of the organisation, active or not (never hard-coded)."""

    # -- contacts
    def contacts_modified_since(self, since: datetime | None, page_size: int = 1000) -> Iterator[list[LedgerContact]]:
        """Pages of contacts changed since `since` (all when None), oldest change first."""

    def find_contacts_by_crm_id(self, crm_ids: Sequence[str]) -> dict[str, LedgerContact]:
        """Contacts that carry these CRM ids: how a lost answer or a re-run finds them again."""

    def create_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Create up to `max_batch` contacts; one result per party, keyed by its `crm_id`."""

    def update_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        """Update existing contacts (each with its `accounting_id`); keyed by `crm_id`. A vendor
        with optimistic concurrency re-reads on a stale version instead of overwriting blindly."""

    # -- invoices
    def create_invoices(self, invoices: Sequence[Invoice], idempotency_key: str) -> list[WriteResult]:
        """Create up to `max_batch` sales invoices; one result per invoice, keyed by its
        `reference`, with the vendor's id and the invoice number the customer sees."""

    def find_invoices_by_reference(self, references: Sequence[str]) -> dict[str, LedgerInvoice]:
        """Invoices by the deterministic reference ledgerlink wrote (a live one preferred)."""

    def invoices_by_ids(self, invoice_ids: Sequence[str]) -> list[LedgerInvoice]: ...

    def invoices_modified_since(self, since: datetime | None,
                                page_size: int = 1000) -> Iterator[list[LedgerInvoice]]:
        """Pages of sales invoices changed since `since` (all when None), oldest change first."""

    def payments_modified_since(self, since: datetime | None) -> Iterator[list[LedgerChange]]:
        """Pages of payments changed since `since`, each naming the invoices it touched."""

    def credit_notes_modified_since(self, since: datetime | None) -> Iterator[list[LedgerChange]]:
        """Pages of credit notes changed since `since`, each naming the invoices it reduced."""

    def open_balances(self, contact_ids: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """What each contact owes on open sales invoices, per currency."""
