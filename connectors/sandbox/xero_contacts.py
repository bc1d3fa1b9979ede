"""Xero contact rules: acceptance, and how a contact is written out.

A name is required and must be unique among ACTIVE contacts — Xero's own wording is kept because
connectors match on it when they get it. (Payment rules live in xero_payments.)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.timeutil import ms_date
from connectors.sandbox.xero_invoices import ZERO_GUID, Books

CONTACT_FIELDS = ("ContactNumber", "AccountNumber", "Name", "FirstName", "LastName", "CompanyNumber",
                  "EmailAddress", "TaxNumber", "Addresses", "Phones", "DefaultCurrency", "IsSupplier",
                  "IsCustomer", "PaymentTerms", "ContactPersons", "BankAccountDetails",
                  "AccountsReceivableTaxType", "AccountsPayableTaxType", "SalesDefaultAccountCode",
                  "PurchasesDefaultAccountCode")
_LIMITS = {"Name": 255, "FirstName": 255, "LastName": 255, "EmailAddress": 255, "TaxNumber": 50,
           "ContactNumber": 50, "AccountNumber": 50, "CompanyNumber": 50}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ContactDraft:
    contact: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    existing: dict[str, Any] | None = None


def duplicate_name_message(name: str) -> str:
    return (f"The contact name {name} is already assigned to another contact. The contact name "
            f"must be unique across all active contacts.")


def prepare_contact(books: Books, raw: dict[str, Any], existing: dict[str, Any] | None,
                    taken_names: set[str]) -> ContactDraft:
    """Validate a contact create (or update of `existing`)."""
    contact = dict(existing) if existing else {"ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE",
                                               "IsSupplier": False, "IsCustomer": False}
    draft = ContactDraft(contact, [], existing)
    for key in CONTACT_FIELDS:
        if key in raw:
            contact[key] = raw[key]
    if raw.get("ContactStatus"):
        status = str(raw["ContactStatus"]).upper()
        if status not in ("ACTIVE", "ARCHIVED"):
            draft.errors.append(f"ContactStatus must be ACTIVE or ARCHIVED, got {status}")
        contact["ContactStatus"] = status
    name = str(contact.get("Name") or "").strip()
    contact["Name"] = name
    if not name:
        draft.errors.append("The contact name must be specified.")
    elif contact["ContactStatus"] == "ACTIVE":
        other = books.contact_by_name(name)
        if (other is not None and other["ContactID"] != contact["ContactID"]) or name.lower() in taken_names:
            draft.errors.append(duplicate_name_message(name))
    for key, limit in _LIMITS.items():
        if isinstance(contact.get(key), str) and len(contact[key]) > limit:
            draft.errors.append(f"{key} must not exceed {limit} characters")
    email = contact.get("EmailAddress")
    if email and not _EMAIL.match(str(email)):
        draft.errors.append("Email address must be valid.")
    currency = contact.get("DefaultCurrency")
    if currency and currency not in books.currencies:
        draft.errors.append(f"Organisation is not subscribed to currency {currency}")
    for key in ("Addresses", "Phones", "ContactPersons"):
        if key in contact and not isinstance(contact[key], list):
            draft.errors.append(f"{key} must be a list")
    return draft


def render_contact(contact: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in contact.items() if not k.startswith("_")}
    out.setdefault("Addresses", [])
    out.setdefault("Phones", [])
    out["ContactGroups"] = []
    out.setdefault("ContactPersons", [])
    out["HasAttachments"] = False
    out["HasValidationErrors"] = False
    if contact.get("_updated_ms"):
        out["UpdatedDateUTC"] = ms_date(contact["_updated_ms"])
    return out


def render_invalid_contact(raw: dict[str, Any], draft: ContactDraft) -> dict[str, Any]:
    out = dict(raw) if isinstance(raw, dict) else {}
    out["ContactID"] = draft.existing["ContactID"] if draft.existing else ZERO_GUID
    out["HasValidationErrors"] = True
    out["StatusAttributeString"] = "ERROR"
    out["ValidationErrors"] = [{"Message": m} for m in draft.errors]
    return out
