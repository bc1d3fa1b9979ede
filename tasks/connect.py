"""Building a run's context: tenant config → live connectors, with tokens kept in the store.

The only place that turns secret references into secrets; nothing here is logged.
"""

from __future__ import annotations

from datetime import datetime, timezone

from connectors.contract import AccountingConnector, CrmConnector
from connectors.oauth import TokenSet
from ledgerlink.config_versions import versions_for
from ledgerlink.spec import load_spec
from ledgerlink.store import Store, open_store
from ledgerlink.timestamps import as_utc
from ledgerlink.tenants import Tenant, load_tenants, resolve_secret, tenants_path
from tasks.context import HandoffContext


class StoreTokenStore:
    """connectors.oauth.TokenStore on the ledgerlink store: a rotated refresh token is committed to
    the database before the new access token is used, so a crash can never lose the connection."""

    def __init__(self, store: Store, bootstrap_refresh_token: str | None = None):
        self._store = store
        self._bootstrap = bootstrap_refresh_token

    def load(self, tenant: str, vendor: str) -> TokenSet | None:
        row = self._store.tokens.load(tenant, vendor)
        if row is not None:
            expires = as_utc(row.expires_at)
            return TokenSet.of(row.access_token, row.refresh_token, expires)
        if self._bootstrap:  # first connection: an expired access token forces a refresh at once
            return TokenSet.of("", self._bootstrap, datetime(2000, 1, 1, tzinfo=timezone.utc))
        return None

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None:
        data = tokens.to_json()
        self._store.tokens.save(tenant, vendor, data["access_token"], data["refresh_token"], tokens.expires_at)


def _hubspot(tenant: Tenant) -> CrmConnector:
    from connectors.hubspot import HubSpotConnector
    from connectors.ratelimit import hubspot_limits

    crm = tenant.crm
    limits = hubspot_limits(crm.burst_per_10s) if tenant.rate_limits else None
    return HubSpotConnector(crm.base_url, resolve_secret(crm.token), tenant.name, limits=limits)


def _pipedrive(tenant: Tenant) -> CrmConnector:
    from connectors.pipedrive import PipedriveConnector
    from connectors.ratelimit import pipedrive_limits

    crm = tenant.crm
    limits = pipedrive_limits(crm.burst_per_2s) if tenant.rate_limits else None
    return PipedriveConnector(crm.base_url, resolve_secret(crm.token), tenant.name, limits=limits)


def _xero(tenant: Tenant, store: Store) -> AccountingConnector:
    from connectors.xero import XeroConnector

    acc = tenant.accounting
    tokens = StoreTokenStore(store, resolve_secret(acc.refresh_token))
    kwargs = {} if tenant.rate_limits else {"limits": None}
    return XeroConnector(acc.base_url.rstrip("/") + "/api.xro/2.0", acc.tenant_id, tokens,
                         resolve_secret(acc.client_id), resolve_secret(acc.client_secret), acc.token_url,
                         tenant.name, **kwargs)


def _quickbooks(tenant: Tenant, store: Store) -> AccountingConnector:
    from connectors.quickbooks import QuickBooksConnector

    acc = tenant.accounting
    tokens = StoreTokenStore(store, resolve_secret(acc.refresh_token))
    kwargs = {} if tenant.rate_limits else {"limits": None}
    return QuickBooksConnector(acc.base_url, acc.realm_id, tokens, resolve_secret(acc.client_id),
                               resolve_secret(acc.client_secret), acc.token_url, tenant.name,
                               sales_item_id=acc.sales_item_id, **kwargs)


CRM_CONNECTORS = {"hubspot": _hubspot, "pipedrive": _pipedrive}  # tenants.CrmConnection's systems
ACCOUNTING_CONNECTORS = {"xero": _xero, "quickbooks": _quickbooks}  # tenants.AccountingConnection's


def crm_connector(tenant: Tenant) -> CrmConnector:
    return CRM_CONNECTORS[tenant.crm.system](tenant)


def accounting_connector(tenant: Tenant, store: Store) -> AccountingConnector:
    return ACCOUNTING_CONNECTORS[tenant.accounting.system](tenant, store)


def handoff_context(tenant_name: str, handoff: str, *, run_id: str | None = None, run_alive=None,
                    tenants: dict[str, Tenant] | None = None, store: Store | None = None,
                    token_store: Store | None = None) -> HandoffContext:
    """`token_store`: where OAuth tokens live when `store` is a dry run's scratch copy (a refresh
    token rotated during the run must outlive the copy)."""
    tenants = tenants if tenants is not None else load_tenants(tenants_path())
    if tenant_name not in tenants:
        raise KeyError(f"unknown tenant {tenant_name!r} (known: {', '.join(sorted(tenants)) or 'none'})")
    tenant = tenants[tenant_name]
    spec = load_spec(handoff, tenant.spec_overrides(handoff))
    config = versions_for(tenant, handoff)
    store = (store or open_store()).for_config(config.id)  # audit events and write intents carry the version
    ctx = HandoffContext(tenant=tenant, spec=spec, store=store, crm=crm_connector(tenant),
                         accounting=accounting_connector(tenant, token_store or store), run_id=run_id,
                         config=config)
    if tenant.rate_limits and tenant.shared_limits:
        from connectors.shared_limits import share_across_workers

        for connector in (ctx.crm, ctx.accounting):
            share_across_workers(connector.http)
    if run_alive is not None:
        ctx.run_alive = run_alive
    ctx.customer_spec = spec if spec.kind == "sync-customers" else load_spec(
        "contact-to-accounting-contact", tenant.spec_overrides("contact-to-accounting-contact"))
    return ctx


def run_is_alive(run_id: str | None) -> bool:
    """Is that Prefect flow run still running? (Its unsettled writes are then its own business.)

    A run Prefect does not know cannot be holding anything. A run Prefect cannot tell about right
    now (the API errs or times out) is taken as alive: its writes wait for the intent lease, which
    settles them anyway. Taking it as dead would let two live runs send the same records."""
    if not run_id:
        return False
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        run = UUID(run_id)
    except ValueError:
        return False
    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run).state
    except ObjectNotFound:
        return False
    except Exception:  # noqa: BLE001 - any failure to ask is "do not know"
        return True
    return bool(state and state.is_running())
