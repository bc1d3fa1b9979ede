"""Xero's OAuth 2.0 token rules: short-lived access tokens and rotating refresh tokens.

The rule that loses real connections: every refresh returns a *new* refresh token and the old one
stops working, so a client that does not persist the new token before using it is locked out
after its next crash. The emulator enforces that (optionally with a grace period, as Xero allows
for a previous token), expires access tokens after `expires_in` vendor seconds (time-compressed
by `time_scale`), and can expire them all on demand.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from connectors.sandbox.limits import LimitSettings
from connectors.sandbox.timeutil import wall_ms

ACCESS_LIFETIME_S = 1800
SCOPES = "offline_access accounting.transactions accounting.contacts accounting.settings"


class XeroAuth:
    def __init__(self, settings: LimitSettings, *, client_id: str = "sandbox-client",
                 client_secret: str = "sandbox-secret", refresh_token: str = "rt-sandbox-0",
                 refresh_grace_s: float = 0.0) -> None:
        self.settings = settings
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_grace_s = refresh_grace_s
        self._lock = threading.Lock()
        self.refresh_tokens: dict[str, str] = {refresh_token: client_id}   # live token -> client
        self._retired: dict[str, tuple[float, str]] = {}                   # old token -> (when, successor)
        self.current_refresh_token = refresh_token
        self._access: dict[str, tuple[float, int]] = {}                    # token -> (expiry monotonic, expiry wall ms)
        self.refresh_count = 0

    # ---- token endpoint -----------------------------------------------------------------
    def refresh(self, client_id: str | None, client_secret: str | None,
                refresh_token: str | None) -> tuple[int, dict[str, Any]]:
        """POST /connect/token with grant_type=refresh_token: (status, JSON body)."""
        if client_id != self.client_id or client_secret != self.client_secret:
            return 400, {"error": "invalid_client"}
        with self._lock:
            owner = self.refresh_tokens.pop(refresh_token or "", None)
            if owner is None:
                retired = self._retired.get(refresh_token or "")
                grace = self.settings.scaled(self.refresh_grace_s)
                if not retired or time.monotonic() - retired[0] > grace:
                    return 400, {"error": "invalid_grant"}
                self.refresh_tokens.pop(retired[1], None)   # reusing the old one retires the new one
            new_refresh = f"rt-{secrets.token_urlsafe(24)}"
            self._retired[refresh_token or ""] = (time.monotonic(), new_refresh)
            self.refresh_tokens[new_refresh] = client_id
            self.current_refresh_token = new_refresh
            self.refresh_count += 1
        access, expires_in = self.issue_access_token()
        return 200, {"id_token": None, "access_token": access, "expires_in": expires_in,
                     "token_type": "Bearer", "refresh_token": new_refresh, "scope": SCOPES}

    def issue_access_token(self) -> tuple[str, int]:
        """A fresh access token (also handy for tests that do not exercise the refresh flow)."""
        lifetime = self.settings.scaled(ACCESS_LIFETIME_S)
        token = f"at-{secrets.token_urlsafe(32)}"
        with self._lock:
            self._access[token] = (time.monotonic() + lifetime, wall_ms() + int(lifetime * 1000))
        return token, max(1, round(lifetime))

    # ---- API calls ----------------------------------------------------------------------
    def check(self, token: str) -> tuple[str, int | None]:
        """('ok'|'invalid'|'expired', expiry wall ms)."""
        with self._lock:
            found = self._access.get(token)
        if found is None:
            return "invalid", None
        if time.monotonic() >= found[0]:
            return "expired", found[1]
        return "ok", found[1]

    def expire_all(self) -> int:
        with self._lock:
            now = time.monotonic()
            expired = 0
            for token, (_, wall) in list(self._access.items()):
                self._access[token] = (now - 1, min(wall, wall_ms()))
                expired += 1
            return expired

    # ---- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"client_id": self.client_id, "client_secret": self.client_secret,
                    "refresh_tokens": dict(self.refresh_tokens),
                    "current_refresh_token": self.current_refresh_token}

    def load_dict(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.client_id = data.get("client_id", self.client_id)
            self.client_secret = data.get("client_secret", self.client_secret)
            self.refresh_tokens = dict(data.get("refresh_tokens", self.refresh_tokens))
            self.current_refresh_token = data.get("current_refresh_token", self.current_refresh_token)
