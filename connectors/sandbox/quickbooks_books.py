"""One QuickBooks Online company's entities, as the emulator keeps them.

Records are stored in QBO's own JSON shape (Decimals for money) plus a few internal `_` keys
(epoch-ms stamps, the time a record becomes visible to /query). Every save bumps `SyncToken` —
QBO's optimistic-concurrency version — and stamps `MetaData.LastUpdatedTime` past its previous
value; a delete leaves a tombstone so CDC can report `status: Deleted`. Ids are one increasing
integer sequence per company, which also tells a batch which entities existed before it began
(items of one batch cannot see each other's new entities). Callers hold the state lock.
"""

from __future__ import annotations

import copy
import threading
import time
from decimal import Decimal
from typing import Any, Iterator

from connectors.sandbox.quickbooks_http import qbo_time
from connectors.sandbox.timeutil import MonotonicMs

ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo", "TaxCode", "TaxRate", "Item", "Term",
            "Account", "CompanyInfo", "Preferences", "CompanyCurrency")
TRANSACTIONS = ("Invoice", "Payment", "CreditMemo")
BY_PATH = {name.lower(): name for name in ENTITIES}


class QuickBooksBooks:
    def __init__(self, realm_id: str, clock: MonotonicMs, lock: threading.RLock | None = None) -> None:
        self.realm_id = realm_id
        self.clock = clock
        self.lock = lock or threading.RLock()
        self.records: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self.deleted: dict[str, dict[str, int]] = {e: {} for e in ENTITIES}  # id -> deleted at (ms)
        self.next_id = 1
        self.requests: dict[str, dict[str, Any]] = {}  # requestid -> the original response
        self.names: dict[str, str] = {}  # casefold DisplayName of an active customer -> its id
        self._name_of: dict[str, str] = {}  # customer id -> its key in `names`
        self.by_customer: dict[str, set[tuple[str, str]]] = {}
        self.query_lag_s = 0.0  # seconds a new entity stays invisible to /query (index lag)

    # ---- ids, reads ---------------------------------------------------------------------
    def new_id(self) -> str:
        value = str(self.next_id)
        self.next_id += 1
        return value

    def get(self, entity: str, entity_id: Any, visible_below: int | None = None) -> dict[str, Any] | None:
        """The record, unless it is unknown or (inside a batch) newer than the batch itself."""
        key = str(entity_id).strip()
        if visible_below is not None and (not key.isdigit() or int(key) >= visible_below):
            return None
        return self.records[entity].get(key)

    def all(self, entity: str) -> Iterator[dict[str, Any]]:
        return iter(self.records[entity].values())

    def queryable(self, record: dict[str, Any], now_ms: float) -> bool:
        return record.get("_visible_ms", 0) <= now_ms

    @property
    def home_currency(self) -> str:
        prefs = self.records["Preferences"].get("1") or {}
        return ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value", "ZAR")

    def currency_enabled(self, code: str) -> bool:
        return any(c.get("Code") == code and c.get("Active", True)
                   for c in self.records["CompanyCurrency"].values()) or code == self.home_currency

    def exchange_rate(self, code: str) -> Decimal:
        for currency in self.records["CompanyCurrency"].values():
            if currency.get("Code") == code and "_rate" in currency:
                return currency["_rate"]
        return Decimal(1)

    # ---- writes -------------------------------------------------------------------------
    def save(self, entity: str, record: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
        """Store a record: new ones get Id, SyncToken 0 and CreateTime; others a SyncToken bump."""
        now = self.clock.stamp(after=record.get("_updated_ms"))
        if created:
            if "Id" not in record:
                record["Id"] = self.new_id()
            record["SyncToken"] = "0"
            record["_created_ms"] = now
            record["_visible_ms"] = time.time() * 1000 + self.query_lag_s * 1000
        else:
            record["SyncToken"] = str(int(record.get("SyncToken", "0")) + 1)
        record["_updated_ms"] = now
        self.records[entity][record["Id"]] = record
        customer = (record.get("CustomerRef") or {}).get("value")
        if entity in TRANSACTIONS and customer:
            self.by_customer.setdefault(customer, set()).add((entity, record["Id"]))
        if entity == "Customer":
            self._index_name(record)
        return record

    def delete(self, entity: str, entity_id: str) -> None:
        record = self.records[entity].pop(entity_id)
        self.deleted[entity][entity_id] = self.clock.stamp(after=record.get("_updated_ms"))
        customer = (record.get("CustomerRef") or {}).get("value")
        if customer:
            self.by_customer.get(customer, set()).discard((entity, entity_id))

    def _index_name(self, customer: dict[str, Any]) -> None:
        old = self._name_of.pop(customer["Id"], None)
        if old is not None and self.names.get(old) == customer["Id"]:
            del self.names[old]
        if customer.get("Active", True) and customer.get("DisplayName"):
            key = customer["DisplayName"].strip().casefold()
            self.names[key] = customer["Id"]
            self._name_of[customer["Id"]] = key

    def customer_balance(self, customer_id: str) -> Decimal:
        """Open invoices less unapplied credit and unapplied payments, as Customer.Balance shows."""
        total = Decimal("0.00")
        for entity, txn_id in self.by_customer.get(customer_id, ()):
            record = self.records[entity].get(txn_id)
            if record is None:
                continue
            if entity == "Invoice":
                total += record.get("Balance", 0)
            elif entity == "CreditMemo":
                total -= record.get("Balance", 0)
            else:
                total -= record.get("UnappliedAmt", 0)
        return total

    # ---- rendering ----------------------------------------------------------------------
    def render(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """The record as QBO writes it: MetaData times, `domain`, masked tax ids, live balances."""
        out = {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}
        out["domain"] = "QBO"
        out["sparse"] = False
        out["MetaData"] = {"CreateTime": qbo_time(record.get("_created_ms", record["_updated_ms"])),
                           "LastUpdatedTime": qbo_time(record["_updated_ms"])}
        if entity == "Customer":
            balance = self.customer_balance(record["Id"])
            out["Balance"] = out["BalanceWithJobs"] = balance
            if out.get("PrimaryTaxIdentifier"):
                tax_id = str(out["PrimaryTaxIdentifier"])
                out["PrimaryTaxIdentifier"] = "X" * max(0, len(tax_id) - 5) + tax_id[-5:]
        return out

    def tombstone(self, entity: str, entity_id: str) -> dict[str, Any]:
        """How CDC reports a deleted entity: only its Id, status and the time of deletion."""
        return {"domain": "QBO", "status": "Deleted", "Id": entity_id,
                "MetaData": {"LastUpdatedTime": qbo_time(self.deleted[entity][entity_id])}}

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"realm_id": self.realm_id, "records": self.records, "deleted": self.deleted,
                "next_id": self.next_id, "requests": self.requests}

    def load_dict(self, data: dict[str, Any]) -> None:
        self.records = {e: dict(data.get("records", {}).get(e, {})) for e in ENTITIES}
        self.deleted = {e: dict(data.get("deleted", {}).get(e, {})) for e in ENTITIES}
        self.next_id = int(data.get("next_id", 1))
        self.requests = dict(data.get("requests", {}))
        self.names, self._name_of, self.by_customer = {}, {}, {}
        newest = 0
        for entity, rows in self.records.items():
            for record in rows.values():
                record["_visible_ms"] = 0
                newest = max(newest, record.get("_updated_ms", 0))
                customer = (record.get("CustomerRef") or {}).get("value")
                if entity in TRANSACTIONS and customer:
                    self.by_customer.setdefault(customer, set()).add((entity, record["Id"]))
                if entity == "Customer":
                    self._index_name(record)
        self.clock.observe(max([newest, *[m for d in self.deleted.values() for m in d.values()]]))
