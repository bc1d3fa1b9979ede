"""A handoff's scope: which CRM records it may move at all, so a rollout can start with a pilot group.

Businesses switch an integration on in phases — one sales owner's deals, one pipeline, a list of
customers, small amounts first, or only what was created after go-live — and widen it after a
week of watching. Records outside the scope are left alone: never written, never queued as
errors. Each scope has a version (a hash of what it says), so records skipped under one version
are looked at again once the scope is widened.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledgerlink.timestamps import parse_timestamp


class AmountRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Decimal | None = None
    max: Decimal | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "AmountRange":
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Scope(BaseModel):
    """Every criterion given must hold (AND); within a list, any value will do (OR)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owners: list[str] | None = Field(default=None, description="CRM owner ids")
    pipelines: list[str] | None = Field(default=None, description="CRM pipeline ids")
    companies: list[str] | None = Field(default=None, description="CRM company ids: a customer list")
    properties: dict[str, list[str]] | None = Field(default=None, description=(
        "CRM property -> accepted values (a tag, a region, a pilot flag)"))
    amount: AmountRange | None = Field(default=None, description="deal amount range, in the deal's currency")
    created_after: date | None = Field(default=None, description="records the CRM created on or after this day")

    @property
    def version(self) -> str:
        text = json.dumps(self.model_dump(mode="json", exclude_none=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def is_everything(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def refuses(self, fields: dict[str, Any], properties: dict[str, Any], company_id: str | None,
                check_company: bool = True) -> str | None:
        """Why a record is outside the scope (None when inside). `fields` are canonical values
        (owner_id, pipeline, amount, created_at); `properties` the CRM record's own."""
        if self.owners is not None and str(fields.get("owner_id")) not in self.owners:
            return "owner"
        if self.pipelines is not None and str(fields.get("pipeline")) not in self.pipelines:
            return "pipeline"
        for name, accepted in (self.properties or {}).items():
            if str(properties.get(name)) not in accepted:
                return f"property {name}"
        if self.amount is not None:
            amount = fields.get("amount")
            if amount is None or (self.amount.min is not None and amount < self.amount.min) or (
                    self.amount.max is not None and amount > self.amount.max):
                return "amount"
        if self.created_after is not None:
            created = _day(fields.get("created_at"))
            if created is None or created < self.created_after:
                return "created date"
        if check_company and self.companies is not None and str(company_id) not in self.companies:
            return "company"
        return None


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        moment = value if isinstance(value, datetime) else parse_timestamp(value)
    except (ValueError, OverflowError):
        return None
    return moment.date() if moment else None
