"""What exists in the emulated Pipedrive company: entities, their standard and custom fields.

Pipedrive keys every custom field by a random 40-character hash (`field_code`) and shows people its
`field_name`; API records carry only the hashes, under `custom_fields`. A connector must therefore
read the *Fields endpoints to translate, and the emulator must make that translation necessary:
hashes here are SHA-1 digests of the entity and name (stable across runs, meaningless to read).
The registry also says which standard fields a PATCH may set and what JSON type each value takes,
so the emulator rejects what Pipedrive rejects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

ENTITIES = ("deals", "organizations", "persons", "products")
FIELD_PATHS = {"deals": "dealFields", "organizations": "organizationFields",
               "persons": "personFields", "products": "productFields"}
SINGULAR = {"deals": "Deal", "organizations": "Organization", "persons": "Person",
            "products": "Product", "deal_products": "Deal product"}
ADDRESS_PARTS = ("subpremise", "street_number", "route", "sublocality", "locality",
                 "admin_area_level_1", "admin_area_level_2", "country", "postal_code")
DEAL_STATUSES = ("open", "won", "lost", "deleted")

# field_type → the JSON kind a value of that type travels as (Pipedrive's own type names).
INT_TYPES = frozenset({"int", "user", "people", "org", "stage", "visible_to", "deal", "lead"})
NUMBER_TYPES = frozenset({"double", "monetary"})
DATE_TYPES = frozenset({"date"})


def field_hash(entity: str, name: str) -> str:
    """A custom field's `field_code`: 40 lowercase hex characters, like Pipedrive's."""
    return hashlib.sha1(f"ledgerlink-sandbox/{entity}/{name}".encode()).hexdigest()


@dataclass(frozen=True)
class FieldDef:
    code: str                      # field_code: a standard key ("title") or a 40-hex hash
    name: str                      # field_name: what people see ("Title", "vat_number")
    type: str                      # Pipedrive field_type: varchar, double, date, monetary, ...
    custom: bool = False
    writable: bool = True
    options: tuple[str, ...] = ()
    subfields: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """One item of GET /api/v2/{entity}Fields."""
        return {
            "field_name": self.name, "field_code": self.code, "field_type": self.type,
            "options": [{"id": n + 1, "label": label} for n, label in enumerate(self.options)]
            or None,
            "subfields": [{"field_code": f"{self.code}.{part}", "field_name": part.replace("_", " ").capitalize(),
                           "field_type": "varchar"} for part in self.subfields] or None,
            "is_custom_field": self.custom, "is_optional_response_field": False,
        }


def _std(code: str, type_: str, name: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(code, name or code.replace("_", " ").capitalize(), type_, **kw)


def _ro(code: str, type_: str, name: str | None = None) -> FieldDef:
    return _std(code, type_, name, writable=False)


def _custom(entity: str, name: str, type_: str = "varchar") -> FieldDef:
    return FieldDef(field_hash(entity, name), name, type_, custom=True)


_COMMON = [_ro("id", "int", "ID"), _ro("add_time", "date", "Created"),
           _ro("update_time", "date", "Update time"), _std("owner_id", "user", "Owner"),
           _std("visible_to", "visible_to", "Visible to"), _std("label_ids", "set", "Labels")]

STANDARD_FIELDS: dict[str, list[FieldDef]] = {
    "deals": _COMMON + [
        _std("title", "varchar"), _std("value", "monetary"), _std("currency", "varchar"),
        _std("person_id", "people", "Contact person"), _std("org_id", "org", "Organization"),
        _std("pipeline_id", "int", "Pipeline"), _std("stage_id", "stage", "Stage"),
        _std("status", "status", options=DEAL_STATUSES[:3]), _std("probability", "double"),
        _std("lost_reason", "varchar"), _std("expected_close_date", "date"),
        _std("won_time", "date"), _std("lost_time", "date"), _std("close_time", "date"),
        _ro("stage_change_time", "date"), _ro("is_deleted", "boolean"),
        _std("is_archived", "boolean")],
    "organizations": _COMMON + [
        _std("name", "varchar"), _std("address", "address", subfields=ADDRESS_PARTS),
        _std("website", "varchar"), _std("linkedin", "varchar"), _std("industry", "int"),
        _std("annual_revenue", "int"), _std("employee_count", "int"), _ro("is_deleted", "boolean")],
    "persons": _COMMON + [
        _std("name", "varchar"), _std("first_name", "varchar"), _std("last_name", "varchar"),
        _std("org_id", "org", "Organization"), _std("emails", "varchar", "Email"),
        _std("phones", "phone", "Phone"), _std("job_title", "varchar"),
        _std("postal_address", "address", subfields=ADDRESS_PARTS), _ro("is_deleted", "boolean")],
    "products": _COMMON + [
        _std("name", "varchar"), _std("code", "varchar"), _std("unit", "varchar"),
        _std("tax", "double"), _std("description", "text"), _std("category", "varchar"),
        _std("prices", "price_list"), _ro("is_deleted", "boolean"), _std("is_linkable", "boolean")],
}

CUSTOM_FIELDS: dict[str, list[FieldDef]] = {
    "deals": [_custom("deals", name, kind) for name, kind in (
        ("ledgerlink_invoice_number", "varchar"), ("ledgerlink_invoice_id", "varchar"),
        ("ledgerlink_invoice_status", "varchar"), ("ledgerlink_invoice_currency", "varchar"),
        ("ledgerlink_review_status", "varchar"), ("ledgerlink_review_note", "text"),
        ("ledgerlink_amount_paid", "double"), ("ledgerlink_amount_due", "double"),
        ("ledgerlink_paid_date", "date"), ("ll_seed_defect", "varchar"))],
    "organizations": [_custom("organizations", name, kind) for name, kind in (
        ("vat_number", "varchar"), ("billing_email", "varchar"), ("payment_terms", "int"),
        ("currency", "varchar"), ("credit_limit", "double"), ("ledgerlink_accounting_id", "varchar"))],
    "persons": [_custom("persons", "ledgerlink_accounting_id")],
    "products": [_custom("products", "tax_group")],
}


class FieldRegistry:
    """Every field of every entity; custom fields can be added at runtime (tests, demos)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[FieldDef]] = {
            entity: list(STANDARD_FIELDS[entity]) + list(CUSTOM_FIELDS[entity]) for entity in ENTITIES}

    def custom(self, entity: str) -> list[FieldDef]:
        return [f for f in self.fields[entity] if f.custom]

    def custom_by_code(self, entity: str) -> dict[str, FieldDef]:
        return {f.code: f for f in self.fields[entity] if f.custom}

    def standard(self, entity: str) -> dict[str, FieldDef]:
        return {f.code: f for f in self.fields[entity] if not f.custom}

    def key(self, entity: str, name: str) -> str:
        """The hash of a custom field by its name; KeyError when the company has none."""
        for field in self.fields[entity]:
            if field.custom and field.name == name:
                return field.code
        raise KeyError(f"no {entity} custom field named {name!r}")

    def add_custom(self, entity: str, name: str, type_: str = "varchar") -> FieldDef:
        field = _custom(entity, name, type_)
        if field.code not in self.custom_by_code(entity):
            self.fields[entity].append(field)
        return field

    def to_dict(self) -> dict[str, list[list[str]]]:
        return {entity: [[f.name, f.type] for f in self.custom(entity)] for entity in ENTITIES}

    def load_dict(self, data: dict[str, list[list[str]]]) -> None:
        for entity, fields in data.items():
            for name, type_ in fields:
                self.add_custom(entity, name, type_)
