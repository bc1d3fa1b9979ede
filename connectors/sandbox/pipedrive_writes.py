"""Checking a PATCH body the way Pipedrive does before it changes anything.

A body names standard fields by their keys and custom fields by their hashes under
`custom_fields`. Unknown keys, read-only fields, values of the wrong JSON type and links to
records that do not exist are refused with 400 and nothing is written, so a connector that sends
field *names* instead of hashes, or a string where a number belongs, fails here as it would live.
Status changes stamp `won_time`/`lost_time` the way the app does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connectors.sandbox.pipedrive_http import PipedriveError
from connectors.sandbox.pipedrive_query import parse_rfc3339, pd_time
from connectors.sandbox.pipedrive_schema import (ADDRESS_PARTS, DATE_TYPES, INT_TYPES,
                                                 NUMBER_TYPES, SINGULAR, FieldDef)
from connectors.sandbox.pipedrive_state import PipedriveState, Record

NULLABLE_LINKS = {"org_id": "organizations", "person_id": "persons"}
TIME_FIELDS = {"won_time", "lost_time", "close_time"}


def _check_value(field: FieldDef, value: Any, where: str) -> Any:
    """The stored form of one value; PipedriveError(400) when the type is wrong."""
    if value is None:
        return None
    kind = field.type
    if kind in INT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PipedriveError(400, f"{where} must be an integer")
        return value
    if kind in NUMBER_TYPES:
        if isinstance(value, dict) and field.custom and kind == "monetary":
            amount = value.get("value")
            if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
                raise PipedriveError(400, f"{where}.value must be a number")
            return {"value": amount, "currency": str(value.get("currency") or "")}
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise PipedriveError(400, f"{where} must be a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise PipedriveError(400, f"{where} must be a boolean")
        return value
    if kind in DATE_TYPES:
        if not isinstance(value, str):
            raise PipedriveError(400, f"{where} must be a date string")
        if field.code in TIME_FIELDS:
            return pd_time(parse_rfc3339(value, where))
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise PipedriveError(400, f"{where} must be a date in YYYY-MM-DD format") from None
    if kind == "set":
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise PipedriveError(400, f"{where} must be an array of integers")
        return value
    if kind == "address":
        if not isinstance(value, dict) or set(value) - {"value", *ADDRESS_PARTS}:
            raise PipedriveError(400, f"{where} must be an address object")
        return {k: str(v) for k, v in value.items() if v is not None}
    if kind in ("phone", "price_list") or field.code == "emails":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise PipedriveError(400, f"{where} must be an array of objects")
        return value
    if kind == "status":
        if value not in field.options:
            raise PipedriveError(400, f"{where} must be one of: {', '.join(field.options)}")
        return value
    if not isinstance(value, str):
        raise PipedriveError(400, f"{where} must be a string")
    return value


def check_patch(state: PipedriveState, entity: str, record: Record,
                body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(standard changes, custom changes by hash) for a PATCH body, or PipedriveError(400)."""
    standard = state.fields.standard(entity)
    customs = state.fields.custom_by_code(entity)
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key == "custom_fields":
            continue
        field = standard.get(key)
        if field is None:
            raise PipedriveError(400, f"Unknown field '{key}' for {SINGULAR[entity].lower()}s")
        if not field.writable:
            raise PipedriveError(400, f"Field '{key}' is read-only")
        changes[key] = _check_value(field, value, key)
        target = NULLABLE_LINKS.get(key)
        if target and value is not None and state.stores[target].get(value) is None:
            raise PipedriveError(400, f"{SINGULAR[target]} with id {value} does not exist")
    custom_body = body.get("custom_fields") or {}
    if not isinstance(custom_body, dict):
        raise PipedriveError(400, "custom_fields must be an object")
    custom: dict[str, Any] = {}
    for code, value in custom_body.items():
        field = customs.get(code)
        if field is None:
            raise PipedriveError(400, f"Custom field '{code}' does not exist")
        custom[code] = _check_value(field, value, f"custom_fields.{code}")
    if entity == "deals" and "status" in changes:
        _stamp_status(state, record, changes)
    return changes, custom


def _stamp_status(state: PipedriveState, record: Record, changes: dict[str, Any]) -> None:
    """Won or lost deals get their time (unless given) and a close time; reopening clears them."""
    status = changes["status"]
    if status == record.data.get("status"):
        return
    now = pd_time(state.clock.stamp())
    if status == "won":
        changes.setdefault("won_time", now)
        changes.setdefault("lost_time", None)
        changes.setdefault("close_time", changes["won_time"])
    elif status == "lost":
        changes.setdefault("lost_time", now)
        changes.setdefault("won_time", None)
        changes.setdefault("close_time", changes["lost_time"])
    else:
        changes.update(won_time=None, lost_time=None, close_time=None)
