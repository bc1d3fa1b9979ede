"""Specs of `sync-customers` handoffs (contact-to-accounting-contact): CRM companies become
accounting contacts — only when finance-ready, matched before created, ids written back both ways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink.linked_spec import Side
from ledgerlink.review_spec import CUSTOMER_FACTS, Review
from ledgerlink.scope_spec import Scope
from ledgerlink.settings import project_root

MATCH_RULES = ("crm_id", "vat_number", "email", "name")
PARTY_FIELDS = {"crm_id", "name", "email", "phone", "vat_number", "currency", "payment_terms_days",
                "address_line1", "city", "postal_code", "country"}


class CustomerSyncSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["sync-customers"]
    description: str
    source: Side
    target: Side
    crm: dict[str, dict[str, str]] = Field(description="per CRM: customer field -> path (company.<property>)")
    match_order: list[Literal["crm_id", "vat_number", "email", "name"]] = list(MATCH_RULES)
    expectations: str = Field(description="the finance-ready suite")
    owned_fields: list[Literal["name", "email", "vat_number"]] = Field(
        default_factory=lambda: ["name", "email", "vat_number"],
        description="customer fields the CRM owns: an edit made in accounting is reported, not overwritten")
    writeback: dict[str, str] = Field(default_factory=dict, description="CRM property -> template")
    batch_size: int = Field(default=50, ge=1, le=50)
    default_owner: str = "finance"
    owners: dict[str, str] = Field(default_factory=dict)
    review: Review | None = Field(default=None, description="customer merges a person decides")
    scope: Scope = Field(default_factory=Scope, description="which companies may move at all (a pilot group)")
    path: Path | None = None

    @field_validator("scope")
    @classmethod
    def _company_scope(cls, value: Scope) -> Scope:
        unsupported = [name for name in ("owners", "pipelines", "amount", "created_after")
                       if getattr(value, name) is not None]
        if unsupported:
            raise ValueError(f"a customer handoff's scope takes companies and properties, not {', '.join(unsupported)}")
        return value

    @field_validator("review")
    @classmethod
    def _customer_facts(cls, value: Review | None) -> Review | None:
        if value is not None:
            value.check_facts(CUSTOMER_FACTS)
        return value

    @field_validator("crm")
    @classmethod
    def _known_fields(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for system, fields in value.items():
            unknown = set(fields) - PARTY_FIELDS
            if unknown:
                raise ValueError(f"{system}: unknown customer field(s) {', '.join(sorted(unknown))}")
            if "crm_id" not in fields or "name" not in fields:
                raise ValueError(f"{system}: the mapping needs crm_id and name")
        return value

    @property
    def expectations_path(self) -> Path:
        return project_root() / "expectations" / self.expectations

    def owner_for(self, reason_code: str) -> str:
        return self.owners.get(reason_code, self.default_owner)

    def fields_for(self, crm_system: str) -> dict[str, str]:
        if crm_system not in self.crm:
            raise KeyError(f"handoff {self.name!r} has no customer mapping for CRM {crm_system!r}")
        return self.crm[crm_system]
