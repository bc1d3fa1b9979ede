"""The emulated Pipedrive company's data: deals, organizations, persons, products, deal products.

Records are held close to their API v2 shape (money as Decimal, custom values under their field
hashes) with add/update times as epoch milliseconds on whole seconds — Pipedrive stamps
`update_time` to the second, which is what a delta reader has to cope with: many records share a
stamp, and `updated_since` is inclusive. Each entity keeps an (update_time, id) index, which is
what `sort_by=update_time` pages walk. Tests and the seeder use this module directly, without HTTP.
"""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox.faults import FaultInjector
from connectors.sandbox.gateway import Stats
from connectors.sandbox.limits import LimitSettings
from connectors.sandbox.ordered_index import ModifiedIndex
from connectors.sandbox.pipedrive_query import pd_time
from connectors.sandbox.pipedrive_schema import ENTITIES, FieldRegistry
from connectors.sandbox.timeutil import wall_ms

CENT = Decimal("0.01")
FORMAT = "ledgerlink-sandbox-pipedrive/1"


class SecondClock:
    """Whole-second stamps that never go backwards (Pipedrive's update_time resolution)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def stamp(self) -> int:
        with self._lock:
            self._last = max(self._last, wall_ms() // 1000 * 1000)
            return self._last

    def observe(self, ms: int) -> None:
        with self._lock:
            self._last = max(self._last, ms)


class Record:
    __slots__ = ("id", "data", "add_ms", "update_ms")

    def __init__(self, record_id: int, data: dict[str, Any], add_ms: int, update_ms: int) -> None:
        self.id = record_id
        self.data = data
        self.add_ms = add_ms
        self.update_ms = update_ms


class EntityStore:
    """All records of one entity (deals, organizations, persons or products)."""

    def __init__(self, entity: str, clock: SecondClock, fields: FieldRegistry) -> None:
        self.entity = entity
        self.clock = clock
        self.fields = fields
        self.records: dict[int, Record] = {}
        self.index: ModifiedIndex[int] = ModifiedIndex()
        self.next_id = 1

    def __len__(self) -> int:
        return sum(1 for r in self.records.values() if not r.data.get("is_deleted"))

    def get(self, record_id: int | str) -> Record | None:
        try:
            record = self.records.get(int(record_id))
        except (TypeError, ValueError):
            return None
        return None if record is None or record.data.get("is_deleted") else record

    def render(self, record: Record) -> dict[str, Any]:
        """The record as API v2 answers it: every custom field present, null when unset."""
        stored = record.data.get("custom_fields") or {}
        customs = {f.code: stored.get(f.code) for f in self.fields.custom(self.entity)}
        return {"id": record.id, **record.data, "add_time": pd_time(record.add_ms),
                "update_time": pd_time(record.update_ms), "custom_fields": customs}

    def sort_pairs(self, sort_by: str) -> list[tuple[Any, int]]:
        """(sort key, id) for every record, ascending."""
        if sort_by == "update_time":
            return self.index.all()
        if sort_by == "id":
            return [(i, i) for i in self.records]
        if sort_by == "add_time":
            return sorted((r.add_ms, r.id) for r in self.records.values())
        return sorted((r.data.get(sort_by) or "", r.id) for r in self.records.values())

    # ---- writes -------------------------------------------------------------------------
    def create(self, data: dict[str, Any], add_ms: int | None = None) -> Record:
        stamp = self.clock.stamp()
        record = Record(self.next_id, dict(data), add_ms if add_ms is not None else stamp, stamp)
        self.next_id += 1
        self.records[record.id] = record
        self.index.add(record.update_ms, record.id)
        return record

    def apply(self, record: Record, changes: dict[str, Any], custom: dict[str, Any] | None = None) -> bool:
        """Set checked values (custom ones by hash); bump update_time only when something changed."""
        changed = False
        for key, value in changes.items():
            if record.data.get(key) != value:
                record.data[key] = value
                changed = True
        stored = record.data.setdefault("custom_fields", {})
        for code, value in (custom or {}).items():
            if stored.get(code) != value:
                stored[code] = value
                changed = True
        if changed:
            old = record.update_ms
            record.update_ms = max(self.clock.stamp(), old)
            self.index.move(old, record.update_ms, record.id)
        return changed

    def insert_raw(self, record_id: int, data: dict[str, Any], add_ms: int, update_ms: int) -> Record:
        """Bulk path for seeding/loading: no stamping, no index upkeep — call `reindex` after."""
        record = Record(record_id, data, add_ms, update_ms)
        self.records[record_id] = record
        self.next_id = max(self.next_id, record_id + 1)
        return record

    def reindex(self) -> None:
        self.records = dict(sorted(self.records.items()))
        self.index.rebuild([(r.update_ms, r.id) for r in self.records.values()])
        for record in self.records.values():
            self.clock.observe(record.update_ms)


def line_sum(item_price: Decimal, quantity: Decimal, discount: Decimal, discount_type: str) -> Decimal:
    """A deal product's `sum`: price × quantity less the discount, to the cent (tax not added)."""
    gross = item_price * quantity
    net = gross * (1 - discount / 100) if discount_type == "percentage" else gross - discount
    return net.quantize(CENT, ROUND_HALF_UP)


class DealProductStore(EntityStore):
    """Products attached to deals; `by_deal` keeps each deal's attachments in order."""

    def __init__(self, clock: SecondClock, fields: FieldRegistry) -> None:
        super().__init__("deal_products", clock, fields)
        self.by_deal: dict[int, list[int]] = {}

    def render(self, record: Record) -> dict[str, Any]:
        return {"id": record.id, **record.data, "add_time": pd_time(record.add_ms),
                "update_time": pd_time(record.update_ms)}

    def attach(self, data: dict[str, Any], add_ms: int | None = None) -> Record:
        data = {**data, "sum": line_sum(data["item_price"], data["quantity"], data["discount"],
                                        data["discount_type"])}
        record = self.create(data, add_ms)
        self.by_deal.setdefault(data["deal_id"], []).append(record.id)
        return record

    def of_deals(self, deal_ids: list[int]) -> list[Record]:
        return [self.records[i] for deal_id in deal_ids for i in self.by_deal.get(deal_id, ())]

    def reindex(self) -> None:
        super().reindex()
        self.by_deal = {}
        for record in self.records.values():
            self.by_deal.setdefault(record.data["deal_id"], []).append(record.id)


class PipedriveState:
    """One emulated company. Thread-safe through `lock` (HTTP handlers and tests share it)."""

    def __init__(self, token: str = "sandbox-pipedrive-token", company_id: int = 7_700_001) -> None:
        self.token = token
        self.company_id = company_id
        self.lock = threading.RLock()
        self.clock = SecondClock()
        self.fields = FieldRegistry()
        self.stores = {entity: EntityStore(entity, self.clock, self.fields) for entity in ENTITIES}
        self.deal_products = DealProductStore(self.clock, self.fields)
        self.faults = FaultInjector()
        self.stats = Stats()
        self.limit_settings = LimitSettings()

    @property
    def deals(self) -> EntityStore:
        return self.stores["deals"]

    @property
    def organizations(self) -> EntityStore:
        return self.stores["organizations"]

    @property
    def persons(self) -> EntityStore:
        return self.stores["persons"]

    @property
    def products(self) -> EntityStore:
        return self.stores["products"]

    def is_empty(self) -> bool:
        return not self.deal_products.records and not any(s.records for s in self.stores.values())

    def custom_key(self, entity: str, name: str) -> str:
        return self.fields.key(entity, name)

    def custom_value(self, entity: str, record_id: int, name: str) -> Any:
        record = self.stores[entity].records[int(record_id)]
        return (record.data.get("custom_fields") or {}).get(self.custom_key(entity, name))

    # ---- direct edits (tests and demos act as a CRM user would) -------------------------
    def create(self, entity: str, data: dict[str, Any], custom: dict[str, Any] | None = None) -> Record:
        with self.lock:
            codes = {self.custom_key(entity, name): value for name, value in (custom or {}).items()}
            return self.stores[entity].create({**data, "custom_fields": codes})

    def update(self, entity: str, record_id: int, changes: dict[str, Any] | None = None,
               custom: dict[str, Any] | None = None) -> Record:
        """Change a record as a person in the app would: bumps update_time when anything changed."""
        with self.lock:
            record = self.stores[entity].get(record_id)
            if record is None:
                raise KeyError(f"no {entity} record {record_id}")
            codes = {self.custom_key(entity, name): value for name, value in (custom or {}).items()}
            self.stores[entity].apply(record, dict(changes or {}), codes)
            return record

    def summary(self) -> dict[str, Any]:
        with self.lock:
            counts = {entity: len(store) for entity, store in self.stores.items()}
            return {"vendor": "pipedrive", "company_id": self.company_id,
                    "objects": {**counts, "deal_products": len(self.deal_products.records)}}

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON for `connectors.sandbox.jsonio` (money stays Decimal)."""
        with self.lock:
            stores = {**self.stores, "deal_products": self.deal_products}
            return {"format": FORMAT, "company_id": self.company_id,
                    "custom_fields": self.fields.to_dict(),
                    "records": {name: {"next_id": store.next_id,
                                       "rows": [[r.id, r.add_ms, r.update_ms, r.data]
                                                for r in store.records.values()]}
                                for name, store in stores.items()}}

    def load_dict(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError("not a ledgerlink Pipedrive sandbox state")
        with self.lock:
            self.company_id = data.get("company_id", self.company_id)
            self.fields.load_dict(data.get("custom_fields", {}))
            stores = {**self.stores, "deal_products": self.deal_products}
            for name, saved in data.get("records", {}).items():
                store = stores[name]
                store.records.clear()
                for record_id, add_ms, update_ms, row in saved["rows"]:
                    store.insert_raw(int(record_id), dict(row), int(add_ms), int(update_ms))
                store.next_id = max(store.next_id, int(saved.get("next_id", store.next_id)))
                store.reindex()
