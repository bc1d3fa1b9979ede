"""What exists in the emulated HubSpot portal: object types, their properties, association types.

HubSpot validates property names per object type ("Property ... does not exist") and types every
value (numbers, datetimes, enumerations) even though the API carries them all as strings; search
compares by that type. Keeping the registry explicit lets the emulator reject exactly what the
real portal rejects, and serve GET /crm/v3/properties/{objectType}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]
OWNER_IDS = ["71000001", "71000002", "71000003", "71000004"]
CURRENCIES = ["ZAR", "USD", "EUR", "GBP"]


@dataclass(frozen=True)
class PropertyDef:
    name: str
    type: str                      # string | number | datetime | date | enumeration | bool
    label: str = ""
    options: tuple[str, ...] = ()
    unique: bool = False
    read_only: bool = False
    hubspot_defined: bool = True
    group: str = "information"

    def describe(self, singular: str) -> dict[str, Any]:
        field_type = {"string": "text", "number": "number", "datetime": "date", "date": "date",
                      "enumeration": "select", "bool": "booleancheckbox"}[self.type]
        return {
            "name": self.name, "label": self.label or self.name, "type": self.type,
            "fieldType": field_type, "groupName": f"{singular}{self.group}",
            "description": "", "displayOrder": -1, "hidden": False, "formField": not self.read_only,
            "hasUniqueValue": self.unique, "hubspotDefined": self.hubspot_defined,
            "calculated": False, "externalOptions": False, "archived": False,
            "options": [{"label": o, "value": o, "displayOrder": i, "hidden": False}
                        for i, o in enumerate(self.options)],
            "modificationMetadata": {"archivable": not self.hubspot_defined,
                                     "readOnlyDefinition": self.hubspot_defined,
                                     "readOnlyValue": self.read_only},
        }


def _p(name: str, type_: str = "string", **kw: Any) -> PropertyDef:
    return PropertyDef(name, type_, **kw)


def _custom(name: str, type_: str = "string", **kw: Any) -> PropertyDef:
    return PropertyDef(name, type_, hubspot_defined=False, **kw)


_COMMON = [_p("hs_object_id", "number", read_only=True, unique=True),
           _p("createdate", "datetime"),
           _p("hs_lastmodifieddate", "datetime", read_only=True)]


@dataclass
class ObjectType:
    """One CRM object type: names it answers to, its properties and default read set."""

    name: str                     # plural path name: deals
    type_id: str                  # 0-3
    singular: str                 # deal
    modified_prop: str            # hs_lastmodifieddate (contacts: lastmodifieddate)
    defaults: tuple[str, ...]     # properties returned when none are requested
    searchable: tuple[str, ...]   # properties the free-text `query` looks at
    properties: dict[str, PropertyDef] = field(default_factory=dict)
    id_base: int = 1_000_000

    def always(self) -> tuple[str, ...]:
        """Properties every read returns, asked for or not."""
        if self.modified_prop != "hs_lastmodifieddate":
            return ("hs_object_id", "createdate", "hs_lastmodifieddate", self.modified_prop)
        return ("hs_object_id", "createdate", "hs_lastmodifieddate")


def _object_type(name: str, type_id: str, singular: str, props: list[PropertyDef], *,
                 defaults: tuple[str, ...], searchable: tuple[str, ...], id_base: int,
                 modified_prop: str = "hs_lastmodifieddate") -> ObjectType:
    registry = {p.name: p for p in _COMMON + props}
    return ObjectType(name, type_id, singular, modified_prop, defaults, searchable, registry, id_base)


OBJECT_TYPES: dict[str, ObjectType] = {
    "deals": _object_type("deals", "0-3", "deal", [
        _p("dealname"), _p("dealstage", "enumeration", options=tuple(DEAL_STAGES)),
        _p("pipeline", "enumeration", options=("default",)), _p("amount", "number"),
        _p("closedate", "datetime"), _p("description"),
        _p("deal_currency_code", "enumeration", options=tuple(CURRENCIES)),
        _p("hubspot_owner_id", "enumeration", options=tuple(OWNER_IDS)),
        _custom("ledgerlink_invoice_id", unique=True), _custom("ledgerlink_invoice_number"),
        _custom("ledgerlink_invoice_status"), _custom("ledgerlink_amount_due", "number"),
        _custom("ledgerlink_amount_paid", "number"), _custom("ledgerlink_paid_date", "date"),
        _custom("ledgerlink_invoice_currency"), _custom("ledgerlink_review_status"), _custom("ledgerlink_review_note"),
        _custom("ll_seed_defect"),
    ], defaults=("amount", "closedate", "createdate", "dealname", "dealstage",
                 "hs_lastmodifieddate", "hs_object_id", "pipeline"),
        searchable=("dealname",), id_base=30_000_000_000),
    "companies": _object_type("companies", "0-2", "company", [
        _p("name"), _p("domain"), _p("address"), _p("city"), _p("zip"), _p("state"),
        _p("country"), _p("phone"), _p("industry"), _custom("vat_number"),
        _custom("billing_email"), _custom("payment_terms", "number"), _custom("credit_limit", "number"),
        _custom("currency", "enumeration", options=tuple(CURRENCIES)),
        _custom("ledgerlink_accounting_id", unique=True),
    ], defaults=("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
        searchable=("name", "domain"), id_base=20_000_000_000),
    "contacts": _object_type("contacts", "0-1", "contact", [
        _p("firstname"), _p("lastname"), _p("email", unique=True), _p("phone"), _p("jobtitle"),
        _p("lastmodifieddate", "datetime", read_only=True),
        _custom("ledgerlink_accounting_id", unique=True),
    ], defaults=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
        searchable=("email", "firstname", "lastname"), id_base=10_000_000_000,
        modified_prop="lastmodifieddate"),
    "line_items": _object_type("line_items", "0-8", "line_item", [
        _p("name"), _p("description"), _p("quantity", "number"), _p("price", "number"),
        _p("amount", "number", read_only=True), _p("hs_discount_percentage", "number"),
        _p("discount", "number"), _p("hs_sku"), _p("hs_tax_rate_group_id"), _p("hs_tax_label"),
        _p("hs_product_id", "number"),
        _p("hs_line_item_currency_code", "enumeration", options=tuple(CURRENCIES)),
    ], defaults=("amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_product_id",
                 "name", "price", "quantity"),
        searchable=("name", "hs_sku"), id_base=40_000_000_000),
    "products": _object_type("products", "0-7", "product", [
        _p("name"), _p("description"), _p("price", "number"), _p("hs_sku", unique=True),
        _p("hs_tax_rate_group_id"),
    ], defaults=("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
        searchable=("name", "hs_sku"), id_base=50_000_000_000),
}

_ALIASES: dict[str, str] = {}
for _type in OBJECT_TYPES.values():
    for _alias in (_type.name, _type.singular, _type.type_id, _type.singular.replace("_", "")):
        _ALIASES[_alias] = _type.name
_ALIASES["lineitem"] = "line_items"


def resolve_type(name: str) -> ObjectType | None:
    """The object type a path segment names (deals, deal, 0-3 …), or None."""
    canonical = _ALIASES.get(name.lower())
    return OBJECT_TYPES[canonical] if canonical else None


# Association types (HUBSPOT_DEFINED). Each pair lists (typeId, label) for a plain association;
# `primary` adds the labelled "Primary" type HubSpot reports next to the unlabelled one.
ASSOCIATION_TYPES: dict[tuple[str, str], dict[str, Any]] = {
    ("deals", "companies"): {"plain": 341, "primary": 5},
    ("companies", "deals"): {"plain": 342, "primary": 6},
    ("deals", "contacts"): {"plain": 3, "primary": None},
    ("contacts", "deals"): {"plain": 4, "primary": None},
    ("deals", "line_items"): {"plain": 19, "primary": None},
    ("line_items", "deals"): {"plain": 20, "primary": None},
    ("companies", "contacts"): {"plain": 280, "primary": 2},
    ("contacts", "companies"): {"plain": 279, "primary": 1},
}


def association_types(from_type: str, to_type: str, primary: bool) -> list[dict[str, Any]]:
    """associationTypes entries as v4 reports them for one association."""
    spec = ASSOCIATION_TYPES[(from_type, to_type)]
    types = []
    if primary and spec["primary"] is not None:
        types.append({"category": "HUBSPOT_DEFINED", "typeId": spec["primary"], "label": "Primary"})
    types.append({"category": "HUBSPOT_DEFINED", "typeId": spec["plain"], "label": None})
    return types


def type_id_is_primary(from_type: str, to_type: str, type_id: int) -> bool | None:
    """Whether an associationTypeId means primary (True), plain (False) or is unknown (None)."""
    spec = ASSOCIATION_TYPES.get((from_type, to_type))
    if not spec:
        return None
    if type_id == spec["primary"]:
        return True
    if type_id == spec["plain"]:
        return False
    return None
