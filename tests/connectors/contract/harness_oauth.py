"""What the two OAuth accounting harnesses (Xero, QuickBooks) share: tokens kept per connector in
recording stores, refreshed at the sandbox's token endpoint, and a read that needs nothing seeded."""

from __future__ import annotations

from typing import Any

from ledgerlink.model import Party

from .harness import AccountingHarness, RecordingTokenStore, unique


class OAuthAccountingHarness(AccountingHarness):
    control_name: str  # the sandbox's control routes: /_sandbox/<control_name>/expire-tokens
    token_path: str  # where the sandbox's token endpoint is

    def party(self) -> Party:
        crm_id = unique("crm")
        return Party(name=f"Acme {crm_id}", crm_id=crm_id, email="accounts@acme.co.za", currency="ZAR")

    # ---- auth ------------------------------------------------------------------------------
    def token_store(self, connector) -> RecordingTokenStore:
        return self.stores[id(connector)]

    def expire_access_tokens(self) -> None:
        self.control("POST", f"{self.control_name}/expire-tokens")

    def live_refresh_token(self) -> str:
        return self.state.auth.current_refresh_token

    def try_refresh(self, refresh_token: str) -> int:
        auth = self.state.auth
        return self.http.post(f"{self.url}{self.token_path}", auth=(auth.client_id, auth.client_secret),
                              data={"grant_type": "refresh_token", "refresh_token": refresh_token}).status_code

    def secrets(self) -> list[str]:
        found = [self.state.auth.client_secret]
        for store in self.stores.values():
            found += store.secrets()
        return found

    def read(self, connector) -> Any:
        return connector.tax_rates()
