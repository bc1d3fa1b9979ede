"""QuickBooks Online's OAuth 2.0 token rules: hour-long access tokens, rotating refresh tokens.

Intuit hands out a new refresh token on refresh and the client must always keep the latest; here
every refresh rotates it and the old one dies at once (the strictest reading), so a client that
does not persist the new token before using it loses the connection — the same trap as Xero's,
answered the way Intuit's token endpoint answers (`invalid_grant`, `invalid_client`). Access
tokens expire after `expires_in` vendor seconds, compressed by `time_scale`.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from connectors.sandbox.limits import LimitSettings

ACCESS_LIFETIME_S = 3600
REFRESH_LIFETIME_S = 8_726_400  # 101 days, as Intuit's `x_refresh_token_expires_in`


class QuickBooksAuth:
    def __init__(self, settings: LimitSettings, *, client_id: str = "qbo-sandbox-client",
                 client_secret: str = "qbo-sandbox-secret",
                 refresh_token: str = "qbo-rt-sandbox-0") -> None:
        self.settings = settings
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self.refresh_tokens: set[str] = {refresh_token}
        self.current_refresh_token = refresh_token
        self._access: dict[str, float] = {}  # token -> expiry (monotonic)
        self.refresh_count = 0

    def refresh(self, client_id: str | None, client_secret: str | None,
                refresh_token: str | None) -> tuple[int, dict[str, Any]]:
        """POST /oauth2/v1/tokens/bearer with grant_type=refresh_token: (status, JSON body)."""
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            if refresh_token not in self.refresh_tokens:
                return 400, {"error": "invalid_grant"}
            self.refresh_tokens.discard(refresh_token)
            new_refresh = f"qbo-rt-{secrets.token_urlsafe(24)}"
            self.refresh_tokens.add(new_refresh)
            self.current_refresh_token = new_refresh
            self.refresh_count += 1
        access, expires_in = self.issue_access_token()
        return 200, {"token_type": "bearer", "access_token": access, "expires_in": expires_in,
                     "refresh_token": new_refresh,
                     "x_refresh_token_expires_in": max(1, round(self.settings.scaled(REFRESH_LIFETIME_S)))}

    def issue_access_token(self) -> tuple[str, int]:
        """A fresh access token (tests that do not exercise the refresh flow use this)."""
        lifetime = self.settings.scaled(ACCESS_LIFETIME_S)
        token = f"qbo-at-{secrets.token_urlsafe(32)}"
        with self._lock:
            self._access[token] = time.monotonic() + lifetime
        return token, max(1, round(lifetime))

    def check(self, token: str) -> str:
        """'ok', 'invalid' or 'expired'."""
        with self._lock:
            expiry = self._access.get(token)
        if expiry is None:
            return "invalid"
        return "expired" if time.monotonic() >= expiry else "ok"

    def expire_all(self) -> int:
        with self._lock:
            now = time.monotonic()
            for token in self._access:
                self._access[token] = now - 1
            return len(self._access)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"client_id": self.client_id, "client_secret": self.client_secret,
                    "refresh_tokens": sorted(self.refresh_tokens),
                    "current_refresh_token": self.current_refresh_token}

    def load_dict(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.client_id = data.get("client_id", self.client_id)
            self.client_secret = data.get("client_secret", self.client_secret)
            self.refresh_tokens = set(data.get("refresh_tokens", self.refresh_tokens))
            self.current_refresh_token = data.get("current_refresh_token", self.current_refresh_token)
