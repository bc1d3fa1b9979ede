"""Pipedrive for the contract suite: the Pipedrive emulator, an API token, edits over its API.

Pipedrive stamps `update_time` in whole seconds, so edits that must move a record's change time
wait for the next second (`stamp_resolution_ms`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping


from connectors.http import RetryPolicy
from connectors.pipedrive import ENTITIES, PipedriveConnector
from connectors.ratelimit import RateLimits, pipedrive_limits
from connectors.sandbox.pipedrive_runner import start_pipedrive_sandbox

from .harness import CrmHarness, unique

TOKEN = "contract-pipedrive-token"
TIGHT_BURST = 5  # per (compressed) 2-second window: far below the 20 the client assumes


class PipedriveHarness(CrmHarness):
    vendor = "pipedrive"
    capabilities = frozenset({"remaining_headers", "skips_unchanged_writes", "token_budget"})
    why_not = {
        "oauth_refresh": "an API token does not expire or rotate; a person revokes it",
        "idempotency_key": "Pipedrive writes take no idempotency key (updates set values)",
        "payments": "a CRM has no payments",
    }
    read_path = "/api/v2/deals"
    stamp_resolution_ms = 1000

    def start(self, *, tight: bool = False, daily_tokens: int | None = None) -> None:
        options: dict[str, Any] = {"burst": TIGHT_BURST} if tight else {}
        if daily_tokens is not None:
            options["daily_tokens"] = daily_tokens
        self.sandbox = start_pipedrive_sandbox(limits=False, token=TOKEN, **options)
        self.state = self.sandbox.state
        self.url = self.sandbox.url
        for object_type in self.object_types:
            self.create(object_type, 8)

    def _stop_sandbox(self) -> None:
        self.sandbox.stop()

    def _build_connector(self, tenant: str, limits: Mapping[str, RateLimits] | None,
                         retry: RetryPolicy) -> PipedriveConnector:
        return PipedriveConnector(self.url, TOKEN, tenant, limits=limits, retry=retry)

    def client_budget(self, time_scale: float) -> Mapping[str, RateLimits]:
        return {bucket: budget.scaled(1 / time_scale) for bucket, budget in pipedrive_limits().items()}

    # ---- records ---------------------------------------------------------------------------
    def _api(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}{path}", json=body,
                                 headers={"x-api-token": self.state.token})
        assert response.status_code < 300, response.text
        return response.json()

    def create(self, object_type: str, count: int) -> list[str]:
        entity = ENTITIES[object_type]
        data = ({"value": Decimal("100.00"), "currency": "ZAR", "status": "open", "is_deleted": False}
                if entity == "deals" else {"is_deleted": False})
        name = "title" if entity == "deals" else "name"
        return [str(self.state.create(entity, {**data, name: unique(object_type)}).id) for _ in range(count)]

    def touch(self, object_type: str, ids: list[str]) -> None:
        name = "title" if object_type == "deals" else "name"
        for record_id in ids:
            self._api("PATCH", f"/api/v2/{ENTITIES[object_type]}/{record_id}", {name: unique("edited")})

    def changes_since(self, object_type: str, since_ms: int) -> dict[str, int]:
        with self.state.lock:
            return {str(r.id): r.update_ms for r in self.state.stores[ENTITIES[object_type]].records.values()
                    if not r.data.get("is_deleted") and r.update_ms >= since_ms}

    def value(self, object_type: str, record_id: str, name: str) -> Any:
        with self.state.lock:
            return self.state.custom_value(ENTITIES[object_type], int(record_id), name)

    def unknown_id_words(self) -> str:
        return "not found"

    # ---- auth ------------------------------------------------------------------------------
    def revoke_token(self) -> None:
        self.state.token = "token-issued-after-the-old-one-was-revoked"

    def restore_token(self) -> None:
        self.state.token = TOKEN

    def revoked_message(self) -> str:
        return "unauthorized access"

    def secrets(self) -> list[str]:
        return [TOKEN]

    # ---- errors and pacing -------------------------------------------------------------------
    def read(self, connector: PipedriveConnector) -> Any:
        return next(iter(connector.search_modified_since("deals", 0, [], page_size=2)), [])

    def error_message(self, status: int) -> str:
        return {429: "Request over limit", 500: "Internal server error", 502: "Bad gateway",
                503: "Service unavailable", 504: "Gateway timeout"}.get(status, "Request failed")

    def paced_call(self, connector: PipedriveConnector, ids: list[str]) -> None:
        connector.batch_read("deals", ids, [])

    def raw_call(self) -> int:
        return self.http.get(f"{self.url}/api/v2/deals", params={"ids": "1"},
                         headers={"x-api-token": self.state.token}).status_code

    def write_path(self, object_type: str) -> tuple[str, str]:
        """(method, path prefix) of the writes `batch_update` makes: one PATCH per record."""
        return "PATCH", f"/api/v2/{ENTITIES[object_type]}/"
