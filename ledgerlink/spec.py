"""Handoff specs: a handoff is declared in YAML, loaded and validated here with errors that name
the file, the line and the field, so an engineer adds a handoff by writing declarations, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ledgerlink.conditions import Condition, check_condition, parse_condition
from ledgerlink.model import DealStatus, InvoiceStatus, TaxTreatment
from ledgerlink.review_spec import REVIEW_FACTS, Review
from ledgerlink.scope_spec import Scope
from ledgerlink.settings import project_root
from ledgerlink.yaml_lines import child, line_of, load_located

SPEC_DIR = project_root() / "flows" / "specs"


class SpecError(ValueError):
    """A spec that cannot be used; the message says which file and which field, and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrmMapping(_Strict):
    """How one CRM's records map to canonical fields (dot paths into the extracted record bundle)."""

    stages: dict[str, DealStatus] = Field(description="CRM stage id -> canonical deal status")
    default_status: DealStatus = DealStatus.OPEN
    deal: dict[str, str]
    customer: dict[str, str]
    line: dict[str, str]
    tax_codes: dict[str, TaxTreatment] = Field(description="CRM tax code -> tax treatment")
    default_tax_code: str | None = None
    writeback: dict[str, str] = Field(default_factory=dict, description="CRM property -> template")

    @property
    def invoiced_property(self) -> str | None:
        """The deal property the invoice id is written to: a deal holding it is done."""
        return next((prop for prop, template in self.writeback.items() if "{invoice_id}" in template), None)

    @field_validator("deal")
    @classmethod
    def _deal_fields(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"name", "stage", "amount", "currency", "close_date"} - set(value)
        if missing:
            raise ValueError(f"deal mapping lacks {', '.join(sorted(missing))}")
        return value

    @field_validator("line")
    @classmethod
    def _line_fields(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"name", "quantity", "unit_price"} - set(value)
        if missing:
            raise ValueError(f"line mapping lacks {', '.join(sorted(missing))}")
        return value


class AccountingInvoiceRules(_Strict):
    """What one accounting system needs that the others do not say the same way."""

    account_code: str | None = Field(default=None, description="sales account of each line (Xero)")
    tax_types: dict[TaxTreatment, str] = Field(description=(
        "tax treatment -> the accounting system's tax code, by its code or its name "
        "(checked against the tenant's active tax rates on every run)"))


class InvoiceSettings(_Strict):
    """The invoice rules as one accounting system applies them (`InvoiceRules.for_system`)."""

    status: InvoiceStatus
    reference: str
    default_payment_terms_days: int
    account_code: str | None
    tax_types: dict[TaxTreatment, str]


class InvoiceRules(_Strict):
    status: InvoiceStatus = InvoiceStatus.AUTHORISED
    reference: str = Field(description="template; must contain {deal_id} so references are unique per deal")
    default_payment_terms_days: int = Field(ge=0, le=365)
    accounting: dict[str, AccountingInvoiceRules] = Field(description="per accounting system: codes and tax types")

    @field_validator("reference")
    @classmethod
    def _reference_has_deal(cls, value: str) -> str:
        if "{deal_id}" not in value:
            raise ValueError("reference template must contain {deal_id}")
        if len(value.format(deal_id="9" * 12)) > 21:  # QuickBooks DocNumber holds 21 characters
            raise ValueError("reference template is too long: a 12-digit deal id must fit in 21 characters")
        return value

    def for_system(self, accounting_system: str) -> InvoiceSettings:
        if accounting_system not in self.accounting:
            raise SpecError(f"invoice rules have nothing for accounting system {accounting_system!r} "
                            f"(they cover: {', '.join(sorted(self.accounting))})")
        rules = self.accounting[accounting_system]
        return InvoiceSettings(status=self.status, reference=self.reference,
                               default_payment_terms_days=self.default_payment_terms_days,
                               account_code=rules.account_code, tax_types=rules.tax_types)


class HandoffSpec(_Strict):
    """A `create-invoices` handoff (won-deal-to-invoice): CRM deals become accounting invoices."""

    name: str
    kind: Literal["create-invoices"] = "create-invoices"
    description: str
    source: Literal["crm", "accounting"]
    target: Literal["crm", "accounting"]
    trigger: str
    crm: dict[str, CrmMapping]
    invoice: InvoiceRules
    expectations: str
    page_size: int = Field(default=200, ge=1, le=200)
    work_batch: int = Field(default=1000, ge=1, le=10_000, description=(
        "deals worked on together (read in pages, gated in one call, written in vendor batches); "
        "the cursor moves after each work batch"))
    batch_size: int = Field(default=50, ge=1, le=50)
    owners: dict[str, str] = Field(default_factory=dict, description="reason code -> owner")
    default_owner: str = "ops"
    review: Review | None = Field(default=None, description="rules that hold a record for a person's decision")
    scope: Scope = Field(default_factory=Scope, description="which deals may move at all (a pilot group)")
    path: Path | None = None

    @field_validator("trigger")
    @classmethod
    def _trigger_parses(cls, value: str) -> str:
        return check_condition(value)

    @field_validator("review")
    @classmethod
    def _invoice_facts(cls, value: Review | None) -> Review | None:
        if value is not None:
            value.check_facts(REVIEW_FACTS)
        return value

    @property
    def trigger_condition(self) -> Condition:
        return parse_condition(self.trigger)

    @property
    def expectations_path(self) -> Path:
        return project_root() / "expectations" / self.expectations

    def owner_for(self, reason_code: str) -> str:
        return self.owners.get(reason_code, self.default_owner)

    def mapping_for(self, crm_system: str) -> CrmMapping:
        if crm_system not in self.crm:
            raise SpecError(f"handoff {self.name!r} has no mapping for CRM {crm_system!r} "
                            f"(it maps: {', '.join(sorted(self.crm))})")
        return self.crm[crm_system]


def _merged(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


@dataclass(frozen=True)
class SpecSource:
    """A spec's YAML as it takes effect (the tenant's overrides merged in), with where each part came
    from: errors point at the line that holds the bad value, config versions hash `data`."""

    path: Path
    data: dict
    node: yaml.Node | None
    overrides: dict | None = None

    def problem(self, loc: Sequence, text: str) -> str:
        """One located problem, `<file>:<line>: <field>: <problem>`; `loc` is a path of keys and list
        indexes as pydantic reports it. A value from the tenant's overrides is located in the tenants
        file (when the overrides know it: `SpecOverrides`) and says whose override it is."""
        name = ".".join(str(part) for part in loc)
        field = [part for part in loc if part != "[key]"]  # pydantic's marker for a bad mapping key
        if not (self.overrides and _overridden(self.node, self.overrides, field)):
            return f"{_at(self.path, line_of(self.node, field))}: {name}: {text}"
        source = getattr(self.overrides, "source", None)
        line = line_of(getattr(self.overrides, "node", None), field) if source else None
        tenant = getattr(self.overrides, "tenant", None)
        whose = f"tenant {tenant}'s override" if tenant else "a tenant override"
        return f"{_at(source or self.path, line)}: {name}: {text} ({whose} of {self.path.name})"


def _at(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _overridden(node: yaml.Node | None, overrides: dict, field: Sequence) -> bool:
    """Does the value at `field` (or the mapping a missing `field` belongs in) come from the overrides
    rather than the spec file (`node`)? Overrides replace every value but a mapping, which they merge
    key by key (`_merged`); a key only the overrides have is theirs."""
    here = overrides
    for part in field:
        if not isinstance(here, dict) or part not in here:
            return False
        here, node = here[part], child(node, part)
        if node is None or not isinstance(here, dict):
            return True
    return True


def read_spec(name_or_path: str | Path, overrides: dict | None = None) -> SpecSource:
    """The spec's YAML with the overrides merged in; a missing file or bad YAML is a SpecError."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SPEC_DIR / f"{str(name_or_path).replace('-', '_')}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem.replace("_", "-") for p in SPEC_DIR.glob("*.yaml")))
        raise SpecError(f"no handoff spec {str(name_or_path)!r} (known handoffs: {known})")
    try:
        data, node = load_located(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a handoff spec must be a mapping at the top level")
    if overrides:
        data = _merged(data, overrides)
    return SpecSource(path, data, node, overrides or None)


def load_spec(name_or_path: str | Path, overrides: dict | None = None):
    """Load `flows/specs/<name>.yaml` (or a path) and validate it; an error names file, line and field.

    `overrides` (a tenant's `overrides: {<handoff>: {...}}`) are merged in before validation, key by
    key, so a tenant can change e.g. `review.channel` or `invoice.account_code` and nothing else;
    a bad override fails the same validation, naming the field and its line in the tenants file
    (when the overrides are a `SpecOverrides`, as `Tenant.spec_overrides` gives them).

    The spec's `kind` chooses its schema: `create-invoices` (HandoffSpec), `update-linked`
    (ledgerlink.linked_spec), `sync-customers` (ledgerlink.customer_spec) or `reconcile`
    (ledgerlink.recon_spec).
    """
    source = read_spec(name_or_path, overrides)
    path, data = source.path, source.data
    from ledgerlink.customer_spec import CustomerSyncSpec
    from ledgerlink.linked_spec import LinkedUpdateSpec
    from ledgerlink.recon_spec import ReconciliationSpec

    kinds = {"create-invoices": HandoffSpec, "update-linked": LinkedUpdateSpec, "sync-customers": CustomerSyncSpec,
             "reconcile": ReconciliationSpec}
    kind = data.get("kind", "create-invoices")
    if kind not in kinds:
        raise SpecError(source.problem(["kind"], f"{kind!r} is not one of {', '.join(kinds)}"))
    try:
        spec = kinds[kind](**data, path=path)
    except ValidationError as err:
        raise SpecError("; ".join(source.problem(error["loc"], error["msg"]) for error in err.errors())) from None
    if spec.expectations_path is not None and not spec.expectations_path.is_file():
        raise SpecError(source.problem(["expectations"], f"no suite file {spec.expectations_path}"))
    return spec
