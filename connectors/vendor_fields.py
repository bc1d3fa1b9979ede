"""One field of a vendor record in a canonical type, or a ValueError that names the field.

The translators (`xero_records`, `quickbooks_mapping`) read records as the vendor sent them. A
record that lost a key, holds an object where text belongs, a total of 1E+400 or a date in year
10000 must stop as a ValueError saying which field of which record, in one short line — never as
a KeyError, TypeError or AttributeError from deep inside a translator, which reads like a bug in
ledgerlink and says nothing about the record. Missing optional values stay None (or 0 for amounts,
as the vendors omit zero amounts).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledgerlink.money import MoneyError, shown, to_amount
from ledgerlink.timestamps import parse_timestamp


class VendorRecordError(ValueError):
    """A vendor record ledgerlink cannot read; the message names the record and the field."""


def label(kind: str, value: Any, *id_keys: str) -> str:
    """How messages name a record: "Xero invoice 'INV-0042'" (its first id that is text), else the kind."""
    for key in id_keys:
        found = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(found, (str, int)) and not isinstance(found, bool) and str(found).strip():
            return f"{kind} {shown(found)}"
    return kind


def record(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise VendorRecordError(f"{what} is a {type(value).__name__}, not a record (got {shown(value)})")
    return value


def nested(parent: Mapping[str, Any], key: str, what: str) -> Mapping[str, Any]:
    """A sub-record (`Contact`, `MetaData`...); {} when absent."""
    value = parent.get(key)
    return {} if value is None else record(value, f"{what}: {key}")


def records(parent: Mapping[str, Any], key: str, what: str) -> list[Mapping[str, Any]]:
    """A list of sub-records (`LineItems`, `LinkedTxn`...); [] when absent."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise VendorRecordError(f"{what}: {key} is a {type(value).__name__}, not a list (got {shown(value)})")
    return [record(item, f"{what}: {key}[{index}]") for index, item in enumerate(value)]


def text(parent: Mapping[str, Any], key: str, what: str) -> str | None:
    """Text, or a whole number standing for its digits (QuickBooks ids); None when absent."""
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise VendorRecordError(f"{what}: {key} is a {type(value).__name__}, not text (got {shown(value)})")


def required_text(parent: Mapping[str, Any], key: str, what: str) -> str:
    value = text(parent, key, what)
    if value is None or not value.strip():
        raise VendorRecordError(f"{what}: {key} is missing")
    return value


def amount(parent: Mapping[str, Any], key: str, what: str) -> Decimal:
    """An exact amount (see money.to_amount); an absent or empty one is 0."""
    value = parent.get(key)
    try:
        return to_amount(0 if value in (None, "") else value, key)
    except MoneyError as err:
        raise VendorRecordError(f"{what}: {err}") from None


def timestamp(parent: Mapping[str, Any], key: str, what: str) -> datetime | None:
    value = parent.get(key)
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise VendorRecordError(f"{what}: {key} is not a date and time (got {shown(value)})") from None


def day(parent: Mapping[str, Any], key: str, what: str) -> date | None:
    """A calendar date written 'YYYY-MM-DD' (anything after the tenth character is not read)."""
    value = parent.get(key)
    if value in (None, ""):
        return None
    try:
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
    except ValueError:
        pass
    raise VendorRecordError(f"{what}: {key} is not a date (got {shown(value)})")
