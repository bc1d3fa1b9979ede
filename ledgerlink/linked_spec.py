"""Specs of `update-linked` handoffs: records that changed on one side update the records they are
linked to on the other side (e.g. payment-to-crm: Xero invoices → HubSpot deals).

Everything a business may want to change is declared: which links to follow, which named
transform reads the source record, how values are derived (rules in the safe condition
language), what is written, when a record must be revisited, and which triggers fire once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink.conditions import ConditionalSpec
from ledgerlink.ledger import LedgerInvoice
from ledgerlink.settings import project_root


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Side(_Strict):
    system: Literal["crm", "accounting"]
    object: str
    id_field: str = "id"


class Rule(ConditionalSpec):
    value: str


class TriggerSpec(ConditionalSpec):
    """Fires once per record when `when` first holds: a Prefect event (and an audit event)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    event: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{2,127}$")
    description: str = ""


# What the engine can read and write today (source -> its canonical record type); a spec naming
# anything else is refused at load.
SUPPORTED_SOURCES = {("accounting", "invoices"): LedgerInvoice}
SUPPORTED_TARGETS = {"crm"}


class LinkedUpdateSpec(_Strict):
    name: str
    kind: Literal["update-linked"]
    description: str
    source: Side
    target: Side
    link: str = Field(description="record_link object type joining the two sides, e.g. invoice")
    transform: str = Field(description="named transform: source record -> values")
    derive: dict[str, list[Rule]] = Field(default_factory=dict, description="value -> first matching rule")
    properties: dict[str, str] = Field(description="target property -> template over the values")
    revisit: str | None = Field(default=None, description="value holding a date to look again on")
    follow: list[Literal["payments", "credit_notes"]] = Field(
        default_factory=list, description="also read these changes and re-read the invoices they touch")
    expectations: str | None = None
    triggers: list[TriggerSpec] = Field(default_factory=list)
    batch_size: int = Field(default=100, ge=1, le=100)
    default_owner: str = "ops"
    owners: dict[str, str] = Field(default_factory=dict)
    path: Path | None = None

    @property
    def expectations_path(self) -> Path | None:
        return project_root() / "expectations" / self.expectations if self.expectations else None

    def owner_for(self, reason_code: str) -> str:
        return self.owners.get(reason_code, self.default_owner)

    @field_validator("transform")
    @classmethod
    def _known_transform(cls, value: str) -> str:
        from ledgerlink.transforms import TRANSFORMS

        if value not in TRANSFORMS:
            raise ValueError(f"no transform named {value!r} (known: {', '.join(sorted(TRANSFORMS))})")
        return value

    @field_validator("source")
    @classmethod
    def _readable(cls, value: Side) -> Side:
        if (value.system, value.object) not in SUPPORTED_SOURCES:
            raise ValueError(f"reading {value.system} {value.object} is not supported yet "
                             f"(supported: {', '.join(f'{s} {o}' for s, o in sorted(SUPPORTED_SOURCES))})")
        fields = SUPPORTED_SOURCES[(value.system, value.object)].__dataclass_fields__
        if value.id_field not in fields:
            raise ValueError(f"id_field {value.id_field!r} is not a field of {value.system} {value.object} "
                             f"(fields: {', '.join(fields)})")
        return value

    @field_validator("follow")
    @classmethod
    def _follow_invoices(cls, value: list[str], info) -> list[str]:
        source = info.data.get("source")
        if value and source is not None and (source.system, source.object) != ("accounting", "invoices"):
            raise ValueError("follow: payments and credit notes lead to invoices; the source must be accounting invoices")
        return value

    @field_validator("target")
    @classmethod
    def _writable(cls, value: Side) -> Side:
        if value.system not in SUPPORTED_TARGETS:
            raise ValueError(f"updating {value.system} records is not supported yet (supported: crm)")
        return value
