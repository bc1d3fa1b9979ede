"""Matching a CRM customer to an accounting contact before anything is created.

Order (declared per handoff): existing link → CRM id carried by the contact → VAT number →
billing email → normalised name. One candidate: match. None: create. Several candidates, a name
match whose VAT number disagrees, or a merely similar name: never guess — a person decides
(customer record merge).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Literal

# Longest first, so "(pty) ltd" is stripped before "ltd". South African forms first.
LEGAL_SUFFIXES = sorted([
    "pty ltd", "proprietary limited", "pty limited", "rf pty ltd", "soc ltd", "npc", "inc", "incorporated",
    "cc", "close corporation", "ltd", "limited", "llc", "plc", "gmbh", "bv", "sa", "t/a",
], key=len, reverse=True)
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalise_name(name: str | None) -> str:
    """'Karoo Outdoor Supplies (Pty) Ltd.' and 'KAROO OUTDOOR SUPPLIES PTY LTD' → 'karoo outdoor supplies'."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().casefold()
    text = text.replace("&", " and ")
    text = _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            plain = _PUNCTUATION.sub(" ", suffix).strip()
            if text.endswith(" " + plain):
                text, changed = text[: -len(plain) - 1].strip(), True
    return text


def normalise_vat(value: str | None) -> str:
    return re.sub(r"\D", "", str(value or ""))


def normalise_email(value: str | None) -> str:
    return str(value or "").strip().casefold()


@dataclass(frozen=True)
class ContactCandidate:
    accounting_id: str
    name: str | None = None
    vat_number: str | None = None
    email: str | None = None
    crm_id: str | None = None  # what the contact carries as the CRM's id (Xero ContactNumber)


@dataclass
class MatchResult:
    outcome: Literal["matched", "none", "ambiguous"]
    rule: str | None = None
    accounting_id: str | None = None
    candidates: list[ContactCandidate] = field(default_factory=list)

    @property
    def reason(self) -> str:
        names = ", ".join(f"{c.name} ({c.accounting_id[:8]})" for c in self.candidates[:5])
        return f"{len(self.candidates)} accounting contacts match by {self.rule}: {names}"


class ContactDirectory:
    """All accounting contacts of a tenant, indexed once per run for every matching rule."""

    def __init__(self, contacts: Iterable[ContactCandidate]):
        self.by: dict[str, dict[str, list[ContactCandidate]]] = {
            "crm_id": {}, "vat_number": {}, "email": {}, "name": {}}
        for contact in contacts:
            for rule, key in (("crm_id", (contact.crm_id or "").strip()), ("vat_number", normalise_vat(contact.vat_number)),
                              ("email", normalise_email(contact.email)), ("name", normalise_name(contact.name))):
                if key:
                    self.by[rule].setdefault(key, []).append(contact)

    def match(self, *, crm_id: str | None, vat_number: str | None, email: str | None, name: str | None,
              order: Iterable[str] = ("crm_id", "vat_number", "email", "name")) -> MatchResult:
        keys = {"crm_id": (crm_id or "").strip(), "vat_number": normalise_vat(vat_number),
                "email": normalise_email(email), "name": normalise_name(name)}
        for rule in order:
            found = self.by[rule].get(keys[rule], []) if keys[rule] else []
            if len(found) > 1:
                return MatchResult("ambiguous", rule.replace("_", " "), None, found)
            if found:
                candidate = found[0]
                other_vat = normalise_vat(candidate.vat_number)
                if rule == "name" and keys["vat_number"] and other_vat and other_vat != keys["vat_number"]:
                    return MatchResult("ambiguous", "name, but the VAT numbers differ (a weak match)", None, found)
                return MatchResult("matched", rule, candidate.accounting_id, found)
        if "name" in order and keys["name"]:
            similar = self._similar_names(keys["name"])
            if similar:
                return MatchResult("ambiguous", "a similar name (a weak match)", None, similar)
        return MatchResult("none")

    def _similar_names(self, wanted: str) -> list[ContactCandidate]:
        """Names that contain the other whole-word (e.g. 'karoo outdoor' vs 'karoo outdoor supplies')."""
        words = f" {wanted} "
        return [c for key, found in self.by["name"].items() if len(key.split()) >= 2 and len(wanted.split()) >= 2
                and (f" {key} " in words or words in f" {key} ") for c in found]
