"""HubSpot for the contract suite: the HubSpot emulator, a private-app token, edits over its API."""

from __future__ import annotations

from typing import Any, Mapping


from connectors.hubspot import HubSpotConnector
from connectors.http import RetryPolicy
from connectors.loopback import LoopbackServer
from connectors.ratelimit import RateLimits, hubspot_limits
from connectors.sandbox.hubspot_app import build_hubspot_app
from connectors.sandbox.hubspot_state import HubSpotState

from .harness import CrmHarness, unique

TOKEN = "pat-contract-hubspot"
TIGHT_BURST = 10  # the sandbox's burst budget in pacing tests: far below what the client assumes


class HubSpotHarness(CrmHarness):
    vendor = "hubspot"
    capabilities = frozenset({"remaining_headers"})
    why_not = {
        "oauth_refresh": "a private-app token does not expire or rotate; a person revokes it",
        "idempotency_key": "HubSpot CRM writes take no idempotency key (batch updates set values)",
        "skips_unchanged_writes": "HubSpot has a batch update: one call either way, and it "
                                  "leaves records already holding the values untouched",
        "token_budget": "HubSpot counts calls, not per-operation token costs",
        "payments": "a CRM has no payments",
    }
    read_path = "/crm/v3/objects/deals/search"

    def start(self, *, tight: bool = False) -> None:
        self.state = HubSpotState(token=TOKEN)
        self.state.limit_settings.enabled = False
        self.server = LoopbackServer(build_hubspot_app(self.state, burst=TIGHT_BURST if tight else 100),
                                     "contract-hubspot").start()
        self.url = self.server.url
        for object_type in self.object_types:
            self.create(object_type, 8)

    def _stop_sandbox(self) -> None:
        self.server.stop()

    def _build_connector(self, tenant: str, limits: Mapping[str, RateLimits] | None,
                         retry: RetryPolicy) -> HubSpotConnector:
        return HubSpotConnector(self.url, TOKEN, tenant, limits=limits, retry=retry)

    def client_budget(self, time_scale: float) -> Mapping[str, RateLimits]:
        return {bucket: budget.scaled(1 / time_scale) for bucket, budget in hubspot_limits().items()}

    # ---- records ---------------------------------------------------------------------------
    def _api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}{path}", json=body,
                                 headers={"Authorization": f"Bearer {self.state.token}"})
        assert response.status_code < 300, response.text
        return response.json()

    def create(self, object_type: str, count: int) -> list[str]:
        name = "dealname" if object_type == "deals" else "name"
        body = {"inputs": [{"properties": {name: unique(object_type)}} for _ in range(count)]}
        return [r["id"] for r in self._api("POST", f"/crm/v3/objects/{object_type}/batch/create", body)["results"]]

    def touch(self, object_type: str, ids: list[str]) -> None:
        name = "dealname" if object_type == "deals" else "name"
        for record_id in ids:
            self._api("PATCH", f"/crm/v3/objects/{object_type}/{record_id}",
                      {"properties": {name: unique("edited")}})

    def changes_since(self, object_type: str, since_ms: int) -> dict[str, int]:
        with self.state.lock:
            return {str(o.id): o.modified_ms for o in self.state.store(object_type).objects.values()
                    if not o.archived and o.modified_ms >= since_ms}

    def value(self, object_type: str, record_id: str, name: str) -> Any:
        with self.state.lock:
            return self.state.store(object_type).get(record_id).props.get(name)

    def unknown_id_words(self) -> str:
        return "may be deleted or not exist"

    # ---- auth ------------------------------------------------------------------------------
    def revoke_token(self) -> None:
        self.state.token = "pat-issued-after-the-old-one-was-revoked"

    def restore_token(self) -> None:
        self.state.token = TOKEN

    def revoked_message(self) -> str:
        return "The access token provided is invalid or does not belong to this portal."

    def secrets(self) -> list[str]:
        return [TOKEN]

    # ---- errors and pacing -------------------------------------------------------------------
    def read(self, connector: HubSpotConnector) -> Any:
        return next(iter(connector.search_modified_since("deals", 0, ["dealname"], page_size=2)), [])

    def error_message(self, status: int) -> str:
        if status == 429:
            return "You have reached your ten_secondly_rolling limit."
        wording = {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable",
                   504: "Gateway Timeout"}.get(status, "error")
        return f"{status} {wording}: the request could not be completed."

    def paced_call(self, connector: HubSpotConnector, ids: list[str]) -> None:
        connector.batch_read("deals", ids, ["dealname"])

    def raw_call(self) -> int:
        return self.http.post(f"{self.url}/crm/v3/objects/deals/batch/read", json={"inputs": [{"id": "1"}]},
                              headers={"Authorization": f"Bearer {self.state.token}"}).status_code

    def write_path(self, object_type: str) -> tuple[str, str]:
        """(method, path prefix) of a `batch_update` call."""
        return "POST", f"/crm/v3/objects/{object_type}/batch/update"
