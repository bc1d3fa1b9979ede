"""POPIA: personal data is masked wherever ledgerlink writes for people to read (logs, audit, artifacts).

The audit log keeps a masked value plus a salted-free SHA-256 of the original so that an auditor who
holds the original can prove what changed without the log itself disclosing it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

PERSONAL_KEYS = frozenset(
    {"name", "customer_name", "contact_name", "firstname", "lastname", "email", "billing_email",
     "phone", "address", "line1", "city", "postal_code", "zip", "emailaddress"}
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+*-])[A-Za-z0-9._%+*-]*@([A-Za-z0-9])[A-Za-z0-9.*-]*\.([A-Za-z]{2,})")
# Anything around an @ is treated as an address: "jane@@example", "jäne@exämple.com" and
# "sipho@example" are not well-formed e-mail addresses, and are still somebody's.
_AT_TOKEN = re.compile(r"[^\s@<>()\[\]{}'\",;:|`]*@+[^\s@<>()\[\]{}'\",;:|`]*")
_UNREADABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})  # controls, bidi/zero-width, line breaks
_MASKED_WORDS = 12
_MASKED_DIGITS = 16


def fingerprint(value: object) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:16]


def mask_value(value: object) -> str:
    """Keep just enough to recognise a record ('K*** O*** S***'), never enough to read it."""
    text = str(value).strip()
    digits = sum(ch.isdigit() for ch in text)
    if "@" not in text and digits >= 6 and digits >= len(text) // 2:
        return "*" * min(max(len(text) - 3, 0), _MASKED_DIGITS) + "".join(ch for ch in text[-3:] if ch.isalnum())
    words = [mask_emails(word) if "@" in word else word[:1] + "***" for word in text.split()
             if "@" in word or word[:1].isalnum()]
    return " ".join(words[:_MASKED_WORDS]) + (" …" if len(words) > _MASKED_WORDS else "") or "***"


def mask_emails(text: str) -> str:
    """Every address in `text` as 't***@k***.za' (malformed ones as 'j***@e***')."""
    return _AT_TOKEN.sub(_mask_address, text)


def _mask_address(match: re.Match) -> str:
    token = match.group(0)
    strict = _EMAIL.fullmatch(token)
    if strict:
        return f"{strict.group(1)}***@{strict.group(2)}***.{strict.group(3)}"
    local, _, domain = token.partition("@")
    domain = domain.lstrip("@")
    first = local[:1] if local[:1].isalnum() else ""
    return f"{first}***@" + (f"{domain[:1]}***" if domain[:1].isalnum() else "***")


def readable_line(text: str, limit: int) -> str:
    """`text` as one printable line of at most `limit` characters: control, bidi-override,
    zero-width and line-break characters are shown escaped (\\x00, \\u202e, \\n), so a value from a
    record can neither split the line a person reads, nor reorder it, nor drive their terminal."""
    escaped = "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _UNREADABLE else ch
                      for ch in text[:limit])
    return escaped if len(escaped) <= limit and len(text) <= limit else escaped[: limit - 1] + "…"


def mask_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """Mask personal fields (recursively) and add `<field>_sha256` fingerprints of the originals."""
    if record is None:
        return None
    masked: dict[str, Any] = {}
    for key, value in record.items():
        key = str(key)
        if value is not None and key.lower() in PERSONAL_KEYS:
            masked[key] = _mask_all(value)
            masked[f"{key}_sha256"] = fingerprint(value)
        elif isinstance(value, dict):
            masked[key] = mask_record(value)
        else:
            masked[key] = _mask_nested(value)
    return masked


def _mask_all(value: Any) -> Any:
    """Under a personal key everything is personal, however deeply a caller nested it."""
    if isinstance(value, dict):
        return {str(key): _mask_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_all(item) for item in value]
    return None if value is None else mask_value(value)


def _mask_nested(value: Any) -> Any:
    """Addresses inside lists and their records are masked too (a list is no hiding place)."""
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, dict):
        return mask_record(value)
    if isinstance(value, (list, tuple)):
        return [_mask_nested(item) for item in value]
    return value
