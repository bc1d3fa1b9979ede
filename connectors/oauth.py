"""Credentials for vendor calls: static bearer tokens and OAuth2 with rotating refresh tokens.

Xero rotates the refresh token on every refresh: the old one dies once the new one is issued. If the
new token set is lost (crash between refresh and save, two threads refreshing at once) the tenant's
connection is gone until a person re-authorises it. So the rules here are:

* the new token set is saved through the `TokenStore` BEFORE the new access token is used;
* refreshes are serialised per (vendor, tenant) by a process-wide lock, and a thread that waited on
  the lock reloads the store first, so it uses the token its neighbour just obtained instead of
  spending the already-rotated refresh token;
* across processes (no shared lock), a refresh refused as `invalid_grant` re-reads the store for a
  moment: if another process rotated the token and saved it, its token set is used;
* secrets are `SecretStr`, so a repr, a log line or a traceback never shows them.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from connectors.errors import NetworkError, ServerError, Unauthorized
from connectors.tls import verified_context

log = logging.getLogger("ledgerlink.http")

REFRESH_MARGIN = timedelta(seconds=120)  # refresh this long before expiry, not at the edge


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An access token, the refresh token that replaces it, and when the access token expires."""

    access_token: SecretStr
    refresh_token: SecretStr
    expires_at: datetime  # timezone-aware UTC

    @classmethod
    def of(cls, access_token: str, refresh_token: str, expires_at: datetime) -> "TokenSet":
        """Naive `expires_at` is taken as UTC (SQLite hands timezone-aware columns back naive)."""
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
        return cls(SecretStr(access_token), SecretStr(refresh_token), expires_at)

    @classmethod
    def from_token_response(cls, payload: dict, now: datetime | None = None) -> "TokenSet":
        """Build from an RFC 6749 token response (`access_token`, `refresh_token`, `expires_in`)."""
        now = now or _utcnow()
        return cls.of(str(payload["access_token"]), str(payload["refresh_token"]),
                      now + timedelta(seconds=int(payload.get("expires_in", 1800))))

    def expires_soon(self, now: datetime | None = None, margin: timedelta = REFRESH_MARGIN) -> bool:
        return (now or _utcnow()) >= self.expires_at - margin

    def to_json(self) -> dict[str, str]:
        """The stored form. Only token stores call this; it holds the secrets in clear."""
        return {"access_token": self.access_token.get_secret_value(),
                "refresh_token": self.refresh_token.get_secret_value(),
                "expires_at": self.expires_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> "TokenSet":
        return cls.of(data["access_token"], data["refresh_token"],
                      datetime.fromisoformat(data["expires_at"]))


@runtime_checkable
class TokenStore(Protocol):
    """Where token sets live between runs. `save` must be durable when it returns."""

    def load(self, tenant: str, vendor: str) -> TokenSet | None: ...

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None: ...


class InMemoryTokenStore:
    """For tests and one-off scripts: tokens die with the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], TokenSet] = {}

    def load(self, tenant: str, vendor: str) -> TokenSet | None:
        with self._lock:
            return self._tokens.get((tenant, vendor))

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None:
        with self._lock:
            self._tokens[(tenant, vendor)] = tokens


class JsonFileTokenStore:
    """One JSON file (mode 0600) holding every tenant's tokens; replaced atomically on save.

    The write goes to a temporary file in the same directory, is fsynced, then `os.replace`d over
    the old file, so a crash leaves either the old or the new token set — never half of one.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @staticmethod
    def _key(tenant: str, vendor: str) -> str:
        return f"{vendor}/{tenant}"

    def _read_all(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def load(self, tenant: str, vendor: str) -> TokenSet | None:
        with self._lock:
            entry = self._read_all().get(self._key(tenant, vendor))
        return TokenSet.from_json(entry) if entry else None

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None:
        with self._lock:
            data = self._read_all()
            data[self._key(tenant, vendor)] = tokens.to_json()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # mode 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


class Auth(Protocol):
    """What the HTTP layer needs from a credential."""

    def headers(self) -> dict[str, str]:
        """Authorization headers for the next call (refreshing first if the token is stale)."""
        ...

    def after_unauthorized(self, sent: dict[str, str]) -> bool:
        """A 401 came back for `sent`; return True if new credentials are now worth one retry."""
        ...

    def secrets(self) -> list[str]:
        """Every secret value this credential holds, for log redaction checks."""
        ...


class BearerAuth:
    """A static token, e.g. a HubSpot private-app access token. A 401 is final."""

    def __init__(self, token: str | SecretStr) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get_secret_value()}"}

    def after_unauthorized(self, sent: dict[str, str]) -> bool:
        return False

    def secrets(self) -> list[str]:
        return [self._token.get_secret_value()]


_REFRESH_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_REFRESH_LOCKS_GUARD = threading.Lock()


def _refresh_lock(vendor: str, tenant: str) -> threading.Lock:
    with _REFRESH_LOCKS_GUARD:
        return _REFRESH_LOCKS.setdefault((vendor, tenant), threading.Lock())


class OAuth2RefreshAuth:
    """OAuth2 access token kept fresh with the refresh-token grant, tokens kept in a `TokenStore`."""

    def __init__(self, *, vendor: str, tenant: str, store: TokenStore, token_url: str,
                 client_id: str, client_secret: str | SecretStr,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None,
                 rotation_waits: tuple[float, ...] = (0.0, 0.5, 1.5)) -> None:
        self.vendor = vendor
        self.rotation_waits = rotation_waits  # how long to look for another process's rotation
        self.tenant = tenant
        self.store = store
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = (client_secret if isinstance(client_secret, SecretStr)
                               else SecretStr(client_secret))
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=verified_context())
        self._tokens: TokenSet | None = None
        self.refreshes = 0

    def close(self) -> None:
        self._http.close()

    def _current(self) -> TokenSet:
        if self._tokens is None:
            self._tokens = self.store.load(self.tenant, self.vendor)
        if self._tokens is None:
            raise Unauthorized(self.vendor, "no stored tokens for this tenant; connect the app")
        return self._tokens

    def headers(self) -> dict[str, str]:
        tokens = self._current()
        if tokens.expires_soon():
            tokens = self.refresh(stale=tokens.access_token.get_secret_value())
        return {"Authorization": f"Bearer {tokens.access_token.get_secret_value()}"}

    def after_unauthorized(self, sent: dict[str, str]) -> bool:
        stale = sent.get("Authorization", "").removeprefix("Bearer ")
        self.refresh(stale=stale)
        return True

    def secrets(self) -> list[str]:
        values = [self._client_secret.get_secret_value()]
        if self._tokens:
            values += [self._tokens.access_token.get_secret_value(),
                       self._tokens.refresh_token.get_secret_value()]
        return values

    def refresh(self, stale: str | None = None) -> TokenSet:
        """Exchange the refresh token for a new set, save it, then hand it out.

        `stale` is the access token the caller saw fail or expire; if the store already holds a
        different one, a neighbour refreshed while we waited for the lock and we use theirs.
        """
        with _refresh_lock(self.vendor, self.tenant):
            stored = self.store.load(self.tenant, self.vendor)
            if stored is None:
                raise Unauthorized(self.vendor, "no stored tokens for this tenant; connect the app")
            if (stale is not None and stored.access_token.get_secret_value() != stale
                    and not stored.expires_soon()):
                self._tokens = stored
                return stored
            try:
                new = self._exchange(stored.refresh_token)
            except Unauthorized:
                winner = self._rotated_elsewhere(stored, self.rotation_waits)
                if winner is None:
                    raise
                self._tokens = winner
                return winner
            self.store.save(self.tenant, self.vendor, new)  # durable BEFORE first use
            self._tokens = new
            self.refreshes += 1
            log.info("oauth token refreshed", extra={"vendor": self.vendor, "tenant": self.tenant})
            return new

    def _rotated_elsewhere(self, spent: TokenSet, waits: tuple[float, ...]) -> TokenSet | None:
        """The token set another process saved after rotating `spent`'s refresh token, if any."""
        for wait in waits:
            time.sleep(wait)
            current = self.store.load(self.tenant, self.vendor)
            if current is not None and (current.refresh_token.get_secret_value()
                                        != spent.refresh_token.get_secret_value()):
                log.info("oauth token rotated by another process; using it",
                         extra={"vendor": self.vendor, "tenant": self.tenant})
                return current
        return None

    def _exchange(self, refresh_token: SecretStr) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token.get_secret_value()}
        auth = (self.client_id, self._client_secret.get_secret_value())
        last: Exception | None = None
        for _ in range(3):  # a lost answer is retried with the same token: nothing else can work
            try:
                response = self._http.post(self.token_url, data=form, auth=auth)
            except httpx.TransportError as exc:
                last = NetworkError(self.vendor, f"token endpoint unreachable ({type(exc).__name__})",
                                    method="POST", path="{token_url}")
                continue
            if response.status_code >= 500:
                last = ServerError(self.vendor, "token endpoint failed",
                                   status=response.status_code, method="POST", path="{token_url}")
                continue
            return self._parse(response)
        assert last is not None
        raise last

    def _parse(self, response: httpx.Response) -> TokenSet:
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or "access_token" not in payload:
            reason = payload.get("error_description") or payload.get("error") or "refused"
            raise Unauthorized(self.vendor, f"token refresh rejected ({reason}); re-authorise the app",
                               status=response.status_code, method="POST", path="{token_url}")
        return TokenSet.from_token_response(payload)
