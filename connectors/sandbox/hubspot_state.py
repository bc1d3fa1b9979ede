"""The emulated HubSpot portal's data: CRM objects per type, associations, and write rules.

Values are held the way HubSpot holds them — strings, typed by the property registry — so the
HTTP layer can hand them out unchanged. Each object type keeps its records in (modified, id)
order, which is what delta-sync searches walk; every write bumps the record's
`hs_lastmodifieddate` past its previous value and bumps the store's version (search caches).
Tests and the seeder use this module directly, without HTTP.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable

from connectors.sandbox.faults import FaultInjector
from connectors.sandbox.gateway import Stats
from connectors.sandbox.hubspot_links import AssociationStore
from connectors.sandbox.hubspot_schema import OBJECT_TYPES, ObjectType, PropertyDef, resolve_type
from connectors.sandbox.limits import LimitSettings
from connectors.sandbox.ordered_index import ModifiedIndex, QueryCache
from connectors.sandbox.timeutil import MonotonicMs, iso_ms, ms_day, parse_epoch_or_iso

CENT = Decimal("0.01")
_LINE_AMOUNT_INPUTS = {"quantity", "price", "hs_discount_percentage", "discount"}


class CrmObject:
    __slots__ = ("id", "props", "created_ms", "modified_ms", "archived")

    def __init__(self, object_id: int, props: dict[str, str], created_ms: int, modified_ms: int,
                 archived: bool = False) -> None:
        self.id = object_id
        self.props = props
        self.created_ms = created_ms
        self.modified_ms = modified_ms
        self.archived = archived


@dataclass
class ItemError:
    """One rejected batch input, in HubSpot's vocabulary."""

    category: str                 # VALIDATION_ERROR | OBJECT_NOT_FOUND | CONFLICT
    message: str
    context: dict[str, list[str]] = field(default_factory=dict)
    code: str | None = None       # PROPERTY_DOESNT_EXIST, INVALID_OPTION …
    name: str | None = None       # the property concerned


class ObjectStore:
    """All records of one object type."""

    def __init__(self, otype: ObjectType, clock: MonotonicMs) -> None:
        self.type = otype
        self.clock = clock
        self.objects: dict[int, CrmObject] = {}
        self.ids: list[int] = []                # every id, ascending (ids only ever grow)
        self.index: ModifiedIndex[int] = ModifiedIndex()
        self.cache = QueryCache()
        self.version = 0
        self.next_id = otype.id_base + 1
        self.unique: dict[str, dict[str, int]] = {
            p.name: {} for p in otype.properties.values() if p.unique and p.name != "hs_object_id"}

    def __len__(self) -> int:
        return sum(1 for o in self.objects.values() if not o.archived)

    # ---- reads --------------------------------------------------------------------------
    def get(self, object_id: int | str) -> CrmObject | None:
        try:
            obj = self.objects.get(int(object_id))
        except (TypeError, ValueError):
            return None
        return obj if obj is not None and not obj.archived else None

    def find(self, key: str, id_property: str | None = None) -> CrmObject | None:
        """By record id, or by a unique property's value (`idProperty`)."""
        if not id_property or id_property == "hs_object_id":
            return self.get(key)
        found = self.unique.get(id_property, {}).get(str(key))
        return self.get(found) if found is not None else None

    def value(self, obj: CrmObject, name: str) -> str | None:
        if name == "hs_object_id":
            return str(obj.id)
        if name == "createdate":
            return iso_ms(obj.created_ms)
        if name in ("hs_lastmodifieddate", "lastmodifieddate"):
            return iso_ms(obj.modified_ms)
        return obj.props.get(name)

    def render(self, obj: CrmObject, requested: Iterable[str] | None = None) -> dict[str, Any]:
        """A SimplePublicObject: requested (or default) properties plus the always-present ones."""
        registry = self.type.properties
        names = list(requested) if requested is not None else list(self.type.defaults)
        props: dict[str, str | None] = {}
        for name in names:
            if name in registry:
                props[name] = self.value(obj, name)
        for name in self.type.always():
            props[name] = self.value(obj, name)
        return {"id": str(obj.id), "properties": props, "createdAt": iso_ms(obj.created_ms),
                "updatedAt": iso_ms(obj.modified_ms), "archived": obj.archived}

    # ---- validation ---------------------------------------------------------------------
    def check(self, props: dict[str, Any], current: CrmObject | None = None
              ) -> tuple[dict[str, str | None], list[ItemError]]:
        """Normalise input property values; collect every problem as HubSpot reports them."""
        clean: dict[str, str | None] = {}
        errors: list[ItemError] = []
        for name, raw in (props or {}).items():
            definition = self.type.properties.get(name)
            if definition is None:
                errors.append(ItemError("VALIDATION_ERROR", f'Property "{name}" does not exist',
                                        code="PROPERTY_DOESNT_EXIST", name=name))
                continue
            if definition.read_only:
                errors.append(ItemError("VALIDATION_ERROR",
                                        f'"{name}" is a read only property; its value cannot be set.',
                                        code="READ_ONLY_VALUE", name=name))
                continue
            try:
                value = normalise(definition, raw)
            except ValueError as problem:
                errors.append(ItemError("VALIDATION_ERROR", str(problem), code=_code(definition), name=name))
                continue
            if definition.unique and value is not None:
                owner = self.unique.get(name, {}).get(value)
                if owner is not None and (current is None or owner != current.id):
                    errors.append(ItemError("CONFLICT", f'A {self.type.singular} with {name} "{value}" '
                                            f"already exists (id {owner}).", code="CONFLICT", name=name))
                    continue
            clean[name] = value
        return clean, errors

    # ---- writes -------------------------------------------------------------------------
    def create(self, props: dict[str, str | None], created_ms: int | None = None) -> CrmObject:
        """Create from already-checked properties."""
        stamp = self.clock.stamp()
        created = created_ms if created_ms is not None else stamp
        if "createdate" in props and props["createdate"]:
            created = parse_epoch_or_iso(props["createdate"])
        values = {k: v for k, v in props.items() if v is not None and k != "createdate"}
        obj = CrmObject(self.next_id, values, created, max(stamp, created))
        self.next_id += 1
        self._derive(obj)
        self.objects[obj.id] = obj
        self.ids.append(obj.id)
        self._index_unique(obj)
        self.index.add(obj.modified_ms, obj.id)
        self.version += 1
        return obj

    def update(self, obj: CrmObject, props: dict[str, str | None]) -> bool:
        """Apply checked properties; bump the modified stamp only when something changed."""
        changed = False
        for name, value in props.items():
            if name == "createdate":
                if value:
                    obj.created_ms = parse_epoch_or_iso(value)
                    changed = True
                continue
            if obj.props.get(name) != value:
                self._unindex_unique(obj, name)
                if value is None:
                    obj.props.pop(name, None)
                else:
                    obj.props[name] = value
                self._index_unique(obj, name)
                changed = True
        if changed:
            if _LINE_AMOUNT_INPUTS & props.keys():
                self._derive(obj)
            old = obj.modified_ms
            obj.modified_ms = self.clock.stamp(after=old)
            self.index.move(old, obj.modified_ms, obj.id)
            self.version += 1
        return changed

    def archive(self, obj: CrmObject) -> None:
        self._unindex_unique(obj)
        obj.archived = True
        old = obj.modified_ms
        obj.modified_ms = self.clock.stamp(after=old)
        self.index.remove(old, obj.id)
        self.version += 1

    def insert_raw(self, object_id: int, props: dict[str, str], created_ms: int, modified_ms: int,
                   archived: bool = False) -> CrmObject:
        """Bulk path for seeding/loading: no stamping, no index upkeep — call `reindex` after."""
        obj = CrmObject(object_id, props, created_ms, modified_ms, archived)
        self.objects[object_id] = obj
        if object_id >= self.next_id:
            self.next_id = object_id + 1
        return obj

    def reindex(self) -> None:
        self.objects = dict(sorted(self.objects.items()))
        self.ids = list(self.objects)
        self.index.rebuild([(o.modified_ms, o.id) for o in self.objects.values() if not o.archived])
        for name in self.unique:
            self.unique[name] = {}
        for obj in self.objects.values():
            if not obj.archived:
                self._index_unique(obj)
            self.clock.observe(obj.modified_ms)
        self.version += 1
        self.cache.clear()

    def _index_unique(self, obj: CrmObject, only: str | None = None) -> None:
        for name, values in self.unique.items():
            if (only is None or only == name) and obj.props.get(name):
                values[obj.props[name]] = obj.id

    def _unindex_unique(self, obj: CrmObject, only: str | None = None) -> None:
        for name, values in self.unique.items():
            if (only is None or only == name) and obj.props.get(name):
                if values.get(obj.props[name]) == obj.id:
                    del values[obj.props[name]]

    def _derive(self, obj: CrmObject) -> None:
        """Line items: HubSpot calculates `amount` from quantity, price and discounts."""
        if self.type.name != "line_items":
            return
        try:
            quantity = Decimal(obj.props.get("quantity") or "0")
            price = Decimal(obj.props.get("price") or "0")
            percent = Decimal(obj.props.get("hs_discount_percentage") or "0")
            discount = Decimal(obj.props.get("discount") or "0")
        except InvalidOperation:
            return
        amount = quantity * price * (1 - percent / 100) - discount
        obj.props["amount"] = str(amount.quantize(CENT, ROUND_HALF_UP))


def _code(definition: PropertyDef) -> str:
    return {"number": "INVALID_FLOAT", "datetime": "INVALID_DATE", "date": "INVALID_DATE",
            "enumeration": "INVALID_OPTION", "bool": "INVALID_BOOLEAN"}.get(definition.type, "INVALID_VALUE")


def normalise(definition: PropertyDef, raw: Any) -> str | None:
    """One input value to its stored string form; '' and null clear the property."""
    if raw is None or (isinstance(raw, str) and raw == ""):
        return None
    text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
    kind = definition.type
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f'"{text}" is not a valid number for {definition.name}') from None
        if not number.is_finite():
            raise ValueError(f'"{text}" is not a valid number for {definition.name}')
        return text
    if kind == "datetime":
        try:
            return iso_ms(parse_epoch_or_iso(text))
        except ValueError:
            raise ValueError(f'"{text}" is not a valid datetime for {definition.name}') from None
    if kind == "date":
        try:
            return ms_day(parse_epoch_or_iso(text))
        except ValueError:
            raise ValueError(f'"{text}" is not a valid date for {definition.name}') from None
    if kind == "enumeration":
        if text not in definition.options:
            raise ValueError(f'"{text}" was not one of the allowed options: '
                             f"[{', '.join(definition.options)}]")
        return text
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f'"{text}" is not a valid boolean for {definition.name}')
        return text.lower()
    return text


class HubSpotState:
    """One emulated portal. Thread-safe through `lock` (HTTP handlers and tests share it)."""

    def __init__(self, token: str = "pat-sandbox-hubspot", portal_id: int = 24_000_001) -> None:
        self.token = token
        self.portal_id = portal_id
        self.lock = threading.RLock()
        self.clock = MonotonicMs()
        self.stores = {name: ObjectStore(otype, self.clock) for name, otype in OBJECT_TYPES.items()}
        self.associations = AssociationStore()
        self.faults = FaultInjector()
        self.stats = Stats()
        self.limit_settings = LimitSettings()

    def store(self, object_type: str) -> ObjectStore:
        otype = resolve_type(object_type)
        if otype is None:
            raise KeyError(f"unknown HubSpot object type {object_type!r}")
        return self.stores[otype.name]

    @property
    def deals(self) -> ObjectStore:
        return self.stores["deals"]

    @property
    def companies(self) -> ObjectStore:
        return self.stores["companies"]

    @property
    def contacts(self) -> ObjectStore:
        return self.stores["contacts"]

    @property
    def line_items(self) -> ObjectStore:
        return self.stores["line_items"]

    @property
    def products(self) -> ObjectStore:
        return self.stores["products"]

    def is_empty(self) -> bool:
        return not any(store.objects for store in self.stores.values())

    def create(self, object_type: str, properties: dict[str, Any],
               associations: Iterable[tuple[str, int, bool]] = ()) -> CrmObject:
        """Create one record (validated like the API does); raises ValueError on bad input."""
        with self.lock:
            store = self.store(object_type)
            clean, errors = store.check(properties)
            if errors:
                raise ValueError("; ".join(e.message for e in errors))
            obj = store.create(clean)
            for to_type, to_id, primary in associations:
                self.associations.add(store.type.name, obj.id, self.store(to_type).type.name,
                                      int(to_id), primary)
            return obj

    def update(self, object_type: str, object_id: int | str, properties: dict[str, Any]) -> CrmObject:
        """Update one record as a CRM user would (bumps hs_lastmodifieddate)."""
        with self.lock:
            store = self.store(object_type)
            obj = store.get(object_id)
            if obj is None:
                raise KeyError(f"no {store.type.singular} {object_id}")
            clean, errors = store.check(properties, obj)
            if errors:
                raise ValueError("; ".join(e.message for e in errors))
            store.update(obj, clean)
            return obj

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int, primary: bool = False) -> None:
        with self.lock:
            self.associations.add(self.store(from_type).type.name, int(from_id),
                                  self.store(to_type).type.name, int(to_id), primary)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {"vendor": "hubspot", "portalId": self.portal_id,
                    "objects": {name: len(store) for name, store in self.stores.items()}}

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": "ledgerlink-sandbox-hubspot/1", "portal_id": self.portal_id,
                "objects": {name: {"next_id": store.next_id,
                                   "rows": [[o.id, o.created_ms, o.modified_ms, o.archived, o.props]
                                            for o in store.objects.values()]}
                            for name, store in self.stores.items()},
                "associations": self.associations.to_dict(),
            }

    def load_dict(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.portal_id = data.get("portal_id", self.portal_id)
            for name, saved in data.get("objects", {}).items():
                store = self.stores[name]
                store.objects.clear()
                store.ids.clear()
                for object_id, created, modified, archived, props in saved["rows"]:
                    store.insert_raw(int(object_id), dict(props), created, modified, archived)
                store.next_id = max(store.next_id, saved.get("next_id", store.next_id))
                store.reindex()
            self.associations.load_dict(data.get("associations", {}))
