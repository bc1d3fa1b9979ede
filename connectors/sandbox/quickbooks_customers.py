"""Customer writes as QBO rules them: unique DisplayName, SyncToken concurrency, sparse updates.

Create and update share one validation. QBO's rules that bite integrations are enforced with its
own codes: a DisplayName already used by an active customer is 6240 "Duplicate Name Exists
Error"; an update whose SyncToken is not the current one is 5010 "Stale Object Error" (nothing is
written); a property QBO does not know is 2010. A full update (`sparse` absent or false) clears
every writable field it does not send — which is why clients send sparse updates; the currency of
a customer can never change once set. Deactivating frees the name (QBO appends "(deleted)").
"""

from __future__ import annotations

from typing import Any

from connectors.sandbox.quickbooks_books import QuickBooksBooks
from connectors.sandbox.quickbooks_http import (
    QBOFault, business, invalid_reference, missing, not_found, stale, unsupported_property, validation)

WRITABLE = frozenset({
    "DisplayName", "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "CompanyName",
    "PrintOnCheckName", "PrimaryEmailAddr", "PrimaryPhone", "Mobile", "Fax", "AlternatePhone",
    "WebAddr", "BillAddr", "ShipAddr", "CurrencyRef", "SalesTermRef", "PrimaryTaxIdentifier",
    "AcctNum", "Notes", "Active", "Taxable", "DefaultTaxCodeRef", "PreferredDeliveryMethod",
    "ResaleNum"})
READ_ONLY = frozenset({"Id", "SyncToken", "sparse", "domain", "status", "MetaData", "Balance",
                       "BalanceWithJobs", "FullyQualifiedName", "Job", "BillWithParent", "Level",
                       "V4IDPseudonym"})
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
MAX_DISPLAY_NAME = 500


def ref_value(ref: Any) -> str | None:
    """The id a `{"value": ..., "name": ...}` reference names (or None)."""
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"]).strip()
    return None


def check_fields(entity: str, payload: dict[str, Any], allowed: frozenset[str]) -> None:
    if not isinstance(payload, dict):
        raise validation("2010", "Request has invalid or unsupported property",
                         f"{entity} must be a JSON object")
    for name in payload:
        if name not in allowed:
            raise unsupported_property(name)


def create_customer(books: QuickBooksBooks, payload: dict[str, Any],
                    visible_below: int | None = None) -> dict[str, Any]:
    check_fields("Customer", payload, WRITABLE | READ_ONLY)
    if payload.get("Id"):
        raise validation("2010", "Request has invalid or unsupported property",
                         "Id is assigned by QuickBooks on create; send an update instead", "Id")
    record = {k: v for k, v in payload.items() if k in WRITABLE}
    record.setdefault("Active", True)
    record.setdefault("CurrencyRef", {"value": books.home_currency})
    _validate(books, record, None, visible_below)
    _derive(books, record)
    return books.save("Customer", record, created=True)


def update_customer(books: QuickBooksBooks, payload: dict[str, Any],
                    visible_below: int | None = None) -> dict[str, Any]:
    check_fields("Customer", payload, WRITABLE | READ_ONLY)
    if not payload.get("Id"):
        raise missing("Id")
    if payload.get("SyncToken") in (None, ""):
        raise missing("SyncToken")
    current = books.get("Customer", payload["Id"], visible_below)
    if current is None:
        raise not_found("Customer", payload["Id"])
    if str(payload["SyncToken"]) != current["SyncToken"]:
        raise stale(current["Id"])
    sent = {k: v for k, v in payload.items() if k in WRITABLE}
    if payload.get("sparse") is True:
        record = {**current, **sent}
    else:  # a full update replaces every writable field; the currency stays
        record = {k: v for k, v in current.items() if k not in WRITABLE}
        record.update(sent)
        record.setdefault("CurrencyRef", current.get("CurrencyRef"))
        record.setdefault("Active", True)
    if ref_value(record.get("CurrencyRef")) != ref_value(current.get("CurrencyRef")):
        raise business("The currency of a customer cannot be changed once it is set.", "CurrencyRef")
    if record.get("Active") is False and current.get("Active", True):
        record["DisplayName"] = f"{record.get('DisplayName') or current['DisplayName']} (deleted)"
    _validate(books, record, current["Id"], visible_below)
    _derive(books, record)
    return books.save("Customer", record)


def _validate(books: QuickBooksBooks, record: dict[str, Any], own_id: str | None,
              visible_below: int | None) -> None:
    name = record.get("DisplayName")
    if not name:
        parts = [record.get(p) for p in NAME_PARTS if record.get(p)]
        name = " ".join(parts) or record.get("CompanyName")
        if not name:
            raise missing("DisplayName")
        record["DisplayName"] = name
    if not isinstance(name, str) or ":" in name or len(name) > MAX_DISPLAY_NAME:
        raise validation("2050", "String length is either shorter or longer than supported by "
                         "specification", f"DisplayName must be 1 to {MAX_DISPLAY_NAME} characters "
                         "without ':'", "DisplayName")
    holder = books.names.get(name.strip().casefold())
    if record.get("Active", True) and holder is not None and holder != own_id:
        raise validation("6240", "Duplicate Name Exists Error",
                         f"The name supplied already exists. : Another customer is already using "
                         f"this name (Id={holder}). Please use a different name.", "DisplayName")
    email = (record.get("PrimaryEmailAddr") or {}).get("Address") if isinstance(
        record.get("PrimaryEmailAddr"), dict) else record.get("PrimaryEmailAddr")
    if email is not None and ("@" not in str(email) or "." not in str(email).split("@")[-1]):
        raise validation("6010", "Invalid Email Address format",
                         f"Email Address does not conform to the syntax rules of RFC 822. Supplied "
                         f"value:{email}", "PrimaryEmailAddr")
    currency = ref_value(record.get("CurrencyRef"))
    if currency is None or not books.currency_enabled(currency):
        raise invalid_reference("Currency", currency)
    term = ref_value(record.get("SalesTermRef"))
    if term is not None and books.get("Term", term, visible_below) is None:
        raise invalid_reference("Term", term)
    if record.get("AcctNum") is not None and len(str(record["AcctNum"])) > 100:
        raise validation("2050", "String length is either shorter or longer than supported by "
                         "specification", "AcctNum: Max:100 supported", "AcctNum")


def _derive(books: QuickBooksBooks, record: dict[str, Any]) -> None:
    """Fields QBO fills in: FullyQualifiedName, PrintOnCheckName, names on references, flags."""
    record["FullyQualifiedName"] = record["DisplayName"]
    record.setdefault("PrintOnCheckName", record["DisplayName"])
    record.setdefault("Taxable", True)
    record["Job"] = False
    record["BillWithParent"] = False
    currency = ref_value(record["CurrencyRef"])
    names = {"ZAR": "South African Rand", "USD": "United States Dollar"}
    record["CurrencyRef"] = {"value": currency, "name": names.get(currency, currency)}
    term = ref_value(record.get("SalesTermRef"))
    if term:
        record["SalesTermRef"] = {"value": term, "name": books.records["Term"][term]["Name"]}
    for key in ("PrimaryEmailAddr", "PrimaryPhone", "BillAddr"):
        if record.get(key) is None:
            record.pop(key, None)


__all__ = ["QBOFault", "create_customer", "update_customer", "ref_value", "check_fields"]
