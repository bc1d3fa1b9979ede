"""Tenants: which CRM and accounting system a business uses, and where its credentials are.

Files hold references to secrets (`env:NAME`), never the secrets themselves, so a tenants file can
be committed and reviewed. An integrator lists many businesses in one file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ledgerlink.money import check_currency, MoneyError
from ledgerlink.yaml_lines import SpecOverrides, child, load_located


class TenantError(ValueError):
    """A tenant file or secret reference that cannot be used; says which and why."""


def resolve_secret(reference: str) -> str:
    """`env:NAME` → the environment variable; `prefect-secret:NAME` → the Prefect Secret block NAME
    (kept encrypted by the Prefect server, so a team of workers shares one credential store).
    Literal values are refused on purpose."""
    if reference.startswith("prefect-secret:"):
        return _prefect_secret(reference.removeprefix("prefect-secret:"))
    if not reference.startswith("env:"):
        raise TenantError(f"secret reference {reference[:4]}… must look like env:NAME or prefect-secret:NAME "
                          "(values never go in files)")
    name = reference[4:]
    value = os.environ.get(name)
    if not value:
        raise TenantError(f"environment variable {name} is not set (needed for a tenant credential)")
    return value


def _prefect_secret(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()
    except ValueError:
        raise TenantError(f"no Prefect Secret block named {name!r} (needed for a tenant credential)") from None
    if not value:
        raise TenantError(f"the Prefect Secret block {name!r} is empty")
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpotConnection(_Strict):
    system: Literal["hubspot"]
    base_url: str = "https://api.hubapi.com"
    token: str = Field(description="private app token secret reference, e.g. env:ACME_HUBSPOT_TOKEN")
    burst_per_10s: int = Field(default=100, description="100 Free/Starter, 190 Pro/Enterprise")
    record_url: str | None = Field(default=None, description=(
        "link to a deal for approval messages, e.g. https://app.hubspot.com/contacts/<portal>/record/0-3/{id}"))


class PipedriveConnection(_Strict):
    system: Literal["pipedrive"]
    base_url: str = Field(default="https://api.pipedrive.com", description="or https://<company>.pipedrive.com")
    token: str = Field(description="API token secret reference, e.g. env:ACME_PIPEDRIVE_TOKEN")
    burst_per_2s: int = Field(default=20, ge=1, description=(
        "the plan's burst limit per token per 2-second window (20 on the smallest plan, up to 120)"))
    record_url: str | None = Field(default=None, description=(
        "link to a deal for approval messages, e.g. https://<company>.pipedrive.com/deal/{id}"))


CrmConnection = Annotated[HubSpotConnection | PipedriveConnection, Field(discriminator="system")]


class ApproverRole(_Strict):
    """Who may decide a review rule's requests: Slack user ids and/or user group ids."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class SlackConnection(_Strict):
    """The business's Slack app: where approval requests go and who may answer them."""

    token: str = Field(description="bot token secret reference, e.g. env:ACME_SLACK_BOT_TOKEN")
    signing_secret: str = Field(description="signing secret reference, e.g. env:ACME_SLACK_SIGNING_SECRET")
    base_url: str = "https://slack.com/api/"
    roles: dict[str, ApproverRole] = Field(default_factory=dict, description="approver role -> people")
    ops_channel: str = Field(default="#ledgerlink-ops", description="failed runs and missed runs are reported here")
    owner_channels: dict[str, str] = Field(default_factory=dict,
                                           description="exception owner -> channel for its daily digest "
                                                       "(others go to ops_channel)")


class XeroConnection(_Strict):
    system: Literal["xero"]
    base_url: str = "https://api.xero.com"
    token_url: str = "https://identity.xero.com/connect/token"
    tenant_id: str = Field(description="the Xero organisation's tenant id (xero-tenant-id header)")
    client_id: str
    client_secret: str
    refresh_token: str = Field(description="used once to bootstrap; rotated tokens live in the store")


class QuickBooksConnection(_Strict):
    system: Literal["quickbooks"]
    base_url: str = "https://quickbooks.api.intuit.com"
    token_url: str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    realm_id: str = Field(description="the QuickBooks company id (realmId)")
    client_id: str
    client_secret: str
    refresh_token: str = Field(description="used once to bootstrap; rotated tokens live in the store")
    sales_item_id: str = Field(default="1", description="the Item every invoice line sells (its income account)")


AccountingConnection = Annotated[XeroConnection | QuickBooksConnection, Field(discriminator="system")]


class Tenant(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    crm: CrmConnection
    accounting: AccountingConnection
    currencies: list[str] = Field(default_factory=lambda: ["ZAR"])
    timezone: str = "Africa/Johannesburg"
    handoffs: list[Literal["contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm"]] = Field(
        default_factory=lambda: ["contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm"])
    rate_limits: bool = True
    overrides: dict[str, dict] = Field(default_factory=dict, description=(
        "handoff -> spec values this tenant changes, e.g. {won-deal-to-invoice: {invoice: {account_code: '4000'}}}"))
    shared_limits: bool = Field(default=False, description=(
        "enforce the vendor budgets across workers through the Prefect server's global concurrency limits"))
    slack: SlackConnection | None = None
    require_checked_config: bool = Field(default=False, description=(
        "refuse to run a handoff with a spec, suite or mapping version `ledgerlink config check` has not passed"))
    _source: Path | None = PrivateAttr(default=None)  # the tenants file, for errors that name a line
    _overrides_node: yaml.Node | None = PrivateAttr(default=None)

    def spec_overrides(self, handoff: str) -> SpecOverrides | None:
        """This tenant's overrides of `handoff`, knowing their lines in the tenants file (`load_spec`
        then reports a bad override where it is written)."""
        values = self.overrides.get(handoff)
        if values is None:
            return None
        return SpecOverrides(values, source=self._source, node=child(self._overrides_node, handoff),
                             tenant=self.name, handoff=handoff)

    @field_validator("currencies")
    @classmethod
    def _iso(cls, value: list[str]) -> list[str]:
        try:
            return [check_currency(code) for code in value]
        except MoneyError as err:
            raise ValueError(str(err)) from None


def load_tenants(path: Path) -> dict[str, Tenant]:
    if not path.is_file():
        raise TenantError(f"no tenants file at {path} (set LEDGERLINK_TENANTS or see README 'Real accounts')")
    try:
        data, node = load_located(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TenantError(f"{path}: not valid YAML: {err}") from None
    data = data or {}
    tenants: dict[str, Tenant] = {}
    for name, body in (data.get("tenants") or {}).items():
        try:
            tenants[name] = Tenant(name=name, **(body or {}))
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise TenantError(f"{path}: tenant {name}: {problems}") from None
        tenants[name]._source = path
        tenants[name]._overrides_node = child(child(child(node, "tenants"), name), "overrides")
    return tenants


def tenants_path() -> Path:
    from ledgerlink.settings import home

    return Path(os.environ.get("LEDGERLINK_TENANTS") or home() / "tenants.yaml")
