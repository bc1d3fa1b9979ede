"""POPIA: personal data is masked wherever ledgerlink writes for people to read (logs, audit, artifacts).

The audit log keeps a masked value plus a salted-free SHA-256 of the original so that an auditor who
holds the original can prove what changed without the log itself disclosing it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

PERSONAL_KEYS = frozenset(
    {"name", "customer_name", "contact_name", "firstname", "lastname", "email", "billing_email",
     "phone", "address", "line1", "city", "postal_code", "zip", "emailaddress"}
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9])[A-Za-z0-9.-]*\.([A-Za-z]{2,})")


def fingerprint(value: object) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:16]


def mask_value(value: object) -> str:
    """Keep just enough to recognise a record ('K*** O*** S***'), never enough to read it."""
    text = str(value)
    if "@" in text:
        return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***.{m.group(3)}", text)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 6 and digits >= len(text) // 2:
        return "*" * max(len(text) - 3, 0) + text[-3:]
    return " ".join(word[:1] + "***" for word in text.split() if word[:1].isalnum()) or "***"


def mask_emails(text: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***.{m.group(3)}", text)


def mask_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mask personal fields (recursively) and add `<field>_sha256` fingerprints of the originals."""
    if record is None:
        return None
    masked: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            masked[key] = mask_record(value)
        elif value is not None and key.lower() in PERSONAL_KEYS:
            masked[key] = mask_value(value)
            masked[f"{key}_sha256"] = fingerprint(value)
        elif isinstance(value, str):
            masked[key] = mask_emails(value)
        else:
            masked[key] = value
    return masked
