"""Pipedrive field schemas: custom-field hashes ↔ names, and values in the type each field takes.

Pipedrive records carry custom fields only under 40-character hashes, different in every company,
so a handoff spec that says `vat_number` needs the company's `organizationFields` to find the
hash. One `FieldSchema` per entity turns an API v2 record into flat properties (custom fields by
name) and a `{name: text}` update into a PATCH body (hashes, JSON numbers, dates), comparing with
the record's current values so that an update that changes nothing sends nothing.

Flattening follows Pipedrive's own v1 field names: an address object becomes `address` (the
formatted value) plus `address_locality`, `address_postal_code`, …; a monetary custom field
becomes `<name>` and `<name>_currency`; a person's e-mail and phone lists also give
`primary_email` and `primary_phone`. A custom field whose name equals a standard field's key
stays under its hash, so neither value hides the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

ADDRESS_PARTS = ("subpremise", "street_number", "route", "sublocality", "locality",
                 "admin_area_level_1", "admin_area_level_2", "country", "postal_code")
INT_TYPES = frozenset({"int", "user", "people", "org", "stage", "visible_to", "deal", "lead"})
NUMBER_TYPES = frozenset({"double", "monetary"})
READ_ONLY = frozenset({"id", "add_time", "update_time", "is_deleted", "stage_change_time",
                       "creator_user_id", "origin"})


@dataclass(frozen=True)
class Field:
    code: str       # field_code: a standard key or a custom field's hash
    name: str       # field_name
    type: str       # field_type
    custom: bool

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> "Field":
        return cls(str(item["field_code"]), str(item["field_name"]), str(item["field_type"]),
                   bool(item.get("is_custom_field")))


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


def as_text(value: Any) -> str | None:
    """A Pipedrive value as the text every CRM connector hands on (HubSpot sends text already), so
    comparisons and checksums downstream see "100.10", never Decimal('100.10') on one CRM and a
    string on another."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return ",".join(str(as_text(item)) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _same(current: Any, new: Any) -> bool:
    """Whether a record already holds a value: numbers by value (15 == 15.00), '' as unset."""
    if current in (None, "") and new in (None, ""):
        return True
    if isinstance(new, (Decimal, int)) and not isinstance(new, bool) and current is not None:
        try:
            return Decimal(str(current)) == Decimal(new)
        except InvalidOperation:
            return False
    return as_text(current) == as_text(new)


class FieldSchema:
    """The fields of one entity in one company, as its *Fields endpoint lists them."""

    def __init__(self, entity: str, fields: Iterable[Field]) -> None:
        self.entity = entity
        fields = list(fields)
        self.standard = {f.code: f for f in fields if not f.custom}
        self.custom_by_code = {f.code: f for f in fields if f.custom}
        self.custom_by_name = {f.name: f for f in fields if f.custom and f.name not in self.standard}
        self.addresses = {f.code for f in fields if f.type == "address" and not f.custom}

    def knows(self, name: str) -> bool:
        """Whether a property name can be written (a field, an address part or a currency of one)."""
        return (name in self.standard or name in self.custom_by_name or self._address_target(name)[0] is not None
                or self._is_currency_of_monetary(name))

    # ---- reading ------------------------------------------------------------------------
    def properties(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A v2 record as flat properties, custom fields by name."""
        props: dict[str, Any] = {}
        for key, value in record.items():
            if key == "custom_fields":
                continue
            if isinstance(value, dict) and (key in self.addresses or key.endswith("address")):
                props.update(_flat_address(key, value))
            else:
                props[key] = value
        for code, value in (record.get("custom_fields") or {}).items():
            field = self.custom_by_code.get(code)
            name = field.name if field is not None and self.custom_by_name.get(field.name) is field else code
            if isinstance(value, dict) and "value" in value:   # monetary: {value, currency}
                props[name] = value.get("value")
                props[f"{name}_currency"] = value.get("currency")
            else:
                props[name] = value
        for plural, single in (("emails", "primary_email"), ("phones", "primary_phone")):
            if isinstance(record.get(plural), list):
                props[single] = _primary(record[plural])
        return props

    def record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": str(raw["id"]), "properties": {k: as_text(v) for k, v in self.properties(raw).items()}}

    # ---- writing ------------------------------------------------------------------------
    def patch_body(self, current: Mapping[str, Any],
                   updates: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(PATCH body holding only what differs from `current`, problems naming the fields).

        A body with problems must not be sent: the update is all or nothing per record.
        """
        body: dict[str, Any] = {}
        customs: dict[str, Any] = {}
        problems: list[str] = []
        addresses: dict[str, dict[str, str | None]] = {}
        for name, text in updates.items():
            address_key, part = self._address_target(name)
            field = self.standard.get(name) or self.custom_by_name.get(name)
            try:
                if address_key is not None:
                    addresses.setdefault(address_key, {})[part] = None if text in (None, "") else str(text)
                elif field is None:
                    if not self._is_currency_of_monetary(name):   # that one travels with its field
                        problems.append(f"unknown field '{name}' on Pipedrive {self.entity}")
                elif not field.custom and (name in READ_ONLY or field.type in ("phone", "price_list")
                                           or name == "emails"):
                    problems.append(f"field '{name}' cannot be set from ledgerlink")
                else:
                    currency = updates.get(f"{name}_currency") or current.get(f"{name}_currency")
                    value = _coerce(field, text, currency)
                    if not _holds(current, name, value):
                        (customs if field.custom else body)[field.code] = value
            except (ValueError, InvalidOperation) as error:
                problems.append(f"field '{name}': {error or 'invalid value'}")
        for key, parts in addresses.items():
            if not all(_same(current.get(key if part == "value" else f"{key}_{part}"), value)
                       for part, value in parts.items()):
                body[key] = _merged_address(current, key, parts)
        if customs:
            body["custom_fields"] = customs
        return body, problems

    def _is_currency_of_monetary(self, name: str) -> bool:
        base = self.custom_by_name.get(name.removesuffix("_currency")) if name.endswith("_currency") else None
        return base is not None and base.type == "monetary"

    def _address_target(self, name: str) -> tuple[str | None, str]:
        if name in self.addresses:
            return name, "value"
        for key in self.addresses:
            if name.startswith(f"{key}_") and name[len(key) + 1:] in ADDRESS_PARTS:
                return key, name[len(key) + 1:]
        return None, ""


def _coerce(field: Field, text: Any, currency: Any = None) -> Any:
    """A ledgerlink value (text) as the JSON the field takes; ValueError when it cannot be."""
    if text is None or (isinstance(text, str) and text.strip() == ""):
        return None
    raw = str(text).strip()
    kind = field.type
    if kind in INT_TYPES:
        number = _number(raw)
        if number != number.to_integral_value():
            raise ValueError(f"{raw!r} is not a whole number")
        return int(number)
    if kind in NUMBER_TYPES:
        if kind == "monetary" and field.custom:
            if not currency:
                raise ValueError(f"a monetary value needs {field.name}_currency")
            return {"value": _number(raw), "currency": str(currency)}
        return _number(raw)
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"{raw!r} is not true or false")
        return raw.lower() == "true"
    if kind == "date" and field.code not in ("won_time", "lost_time", "close_time"):
        return date.fromisoformat(raw[:10]).isoformat()
    if kind == "set":
        return [int(part) for part in raw.split(",") if part.strip()]
    return raw


def _holds(current: Mapping[str, Any], name: str, value: Any) -> bool:
    """Whether the record already holds `value` (a monetary value with its currency)."""
    if isinstance(value, dict):
        return _same(current.get(name), value["value"]) and current.get(f"{name}_currency") == value["currency"]
    return _same(current.get(name), value)


def _merged_address(current: Mapping[str, Any], key: str, parts: Mapping[str, str | None]) -> dict[str, str]:
    """The whole address object with some parts changed: a PATCH replaces the object, so the
    parts not being changed are sent as they are. The formatted `value` is kept unless given."""
    merged = {part: current.get(f"{key}_{part}") for part in ADDRESS_PARTS}
    merged["value"] = current.get(key)
    merged.update(parts)
    return {part: value for part, value in merged.items() if value not in (None, "")}


def _flat_address(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {key: value}
    flat = {key: value.get("value")}
    for part in ADDRESS_PARTS:
        flat[f"{key}_{part}"] = value.get(part)
    return flat


def _primary(items: list[Any]) -> Any:
    values = [item for item in items if isinstance(item, dict)]
    chosen = next((item for item in values if item.get("primary")), values[0] if values else None)
    return chosen.get("value") if chosen else None
