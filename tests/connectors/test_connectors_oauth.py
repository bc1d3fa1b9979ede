"""OAuth2 refresh with rotating refresh tokens, token stores, and secrets kept out of sight."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest

from connectors.errors import Unauthorized
from connectors.http import RetryPolicy, VendorHttpClient, redact
from connectors.oauth import (InMemoryTokenStore, JsonFileTokenStore, OAuth2RefreshAuth,
                              TokenSet, TokenStore)

from connector_testkit import Seen, Step

CLIENT_ID, CLIENT_SECRET = "client-id-123", "client-secret-XYZ987"


class RotatingTokenEndpoint:
    """A token endpoint that issues a new refresh token each time and kills the old one."""

    def __init__(self, first_refresh: str) -> None:
        self.valid_refresh = first_refresh
        self.valid_access: set[str] = set()
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def __call__(self, seen: Seen) -> Step:
        form = parse_qs(seen.body.decode())
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {basic}":
            return Step(401, {"error": "invalid_client"})
        with self.lock:
            if form.get("grant_type") != ["refresh_token"] or \
                    form.get("refresh_token") != [self.valid_refresh]:
                return Step(400, {"error": "invalid_grant"})
            n = next(self.counter)
            self.valid_refresh = f"refresh-{n}-secret"
            access = f"access-{n}-secret"
            self.valid_access.add(access)
        return Step(200, {"access_token": access, "refresh_token": self.valid_refresh,
                          "expires_in": 1800, "token_type": "Bearer"})

    def api(self, seen: Seen) -> Step:
        token = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid_access:
            return Step(401, {"Title": "Unauthorized", "Detail": "TokenExpired"})
        return Step(200, {"Organisations": [{"Name": "Acme"}]})


def stored(access: str = "access-0-secret", refresh: str = "refresh-0-secret",
           minutes: int = 30) -> TokenSet:
    return TokenSet.of(access, refresh, datetime.now(timezone.utc) + timedelta(minutes=minutes))


def make_auth(server, store: TokenStore) -> OAuth2RefreshAuth:
    return OAuth2RefreshAuth(vendor="xero", tenant="acme", store=store,
                             token_url=f"{server.url}/connect/token", client_id=CLIENT_ID,
                             client_secret=CLIENT_SECRET, rotation_waits=(0.0, 0.01))


class SpyStore(InMemoryTokenStore):
    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None:
        super().save(tenant, vendor, tokens)
        self.events.append(f"saved {tokens.access_token.get_secret_value()}")


def test_refresh_rotation_is_persisted_before_the_new_token_is_used(server):
    endpoint = RotatingTokenEndpoint("refresh-0-secret")
    events: list[str] = []

    def api(seen: Seen) -> Step:
        events.append(f"used {seen.headers.get('authorization', '').removeprefix('Bearer ')}")
        return endpoint.api(seen)

    server.always("/connect/token", endpoint)
    server.always("/api", api)
    store = SpyStore(events)
    store.save("acme", "xero", stored())  # access-0 is unknown to the server: a 401 follows
    events.clear()
    auth = make_auth(server, store)
    with VendorHttpClient("xero", server.url, tenant="acme", auth=auth) as client:
        assert client.get("/api/Organisation").body["Organisations"][0]["Name"] == "Acme"
    assert events == ["used access-0-secret", "saved access-1-secret", "used access-1-secret"]
    assert store.load("acme", "xero").refresh_token.get_secret_value() == "refresh-1-secret"
    assert client.stats.snapshot()["token_refreshes"] == 1


def test_token_is_refreshed_before_expiry_without_a_401(server):
    endpoint = RotatingTokenEndpoint("refresh-0-secret")
    server.always("/connect/token", endpoint)
    server.always("/api", endpoint.api)
    store = InMemoryTokenStore()
    store.save("acme", "xero", stored(minutes=1))  # inside the refresh margin
    with VendorHttpClient("xero", server.url, tenant="acme", auth=make_auth(server, store)) as c:
        c.get("/api/Organisation")
    assert [s.path for s in server.requests] == ["/connect/token", "/api/Organisation"]


def test_concurrent_401s_spend_the_refresh_token_once(server):
    endpoint = RotatingTokenEndpoint("refresh-0-secret")
    server.always("/connect/token", endpoint)
    store = InMemoryTokenStore()
    store.save("acme", "xero", stored())
    auths = [make_auth(server, store) for _ in range(8)]  # eight workers, one tenant
    barrier = threading.Barrier(8)

    def worker(auth: OAuth2RefreshAuth) -> None:
        barrier.wait()
        auth.after_unauthorized({"Authorization": "Bearer access-0-secret"})

    threads = [threading.Thread(target=worker, args=(a,)) for a in auths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.calls("/connect/token")) == 1
    assert {a.headers()["Authorization"] for a in auths} == {"Bearer access-1-secret"}


def test_refresh_lost_to_another_process_uses_the_winners_tokens(server):
    """Two processes share one store but no lock: the loser's refresh is refused, and it picks
    up the token set the winner saved instead of declaring the connection lost."""
    store = InMemoryTokenStore()
    store.save("acme", "xero", stored())
    winner = stored("access-W-secret", "refresh-W-secret")

    def other_process_won(seen: Seen) -> Step:
        store.save("acme", "xero", winner)
        return Step(400, {"error": "invalid_grant"})

    server.script("/connect/token", other_process_won)
    auth = make_auth(server, store)
    assert auth.refresh(stale="access-0-secret") == winner
    assert auth.headers() == {"Authorization": "Bearer access-W-secret"}


def test_rejected_refresh_token_asks_for_reauthorisation(server):
    server.always("/connect/token", RotatingTokenEndpoint("another-token"))
    store = InMemoryTokenStore()
    store.save("acme", "xero", stored(minutes=0))
    with pytest.raises(Unauthorized) as err:
        make_auth(server, store).headers()
    assert "invalid_grant" in str(err.value) and "re-authorise" in str(err.value)


def test_missing_tokens_is_unauthorized(server):
    with pytest.raises(Unauthorized):
        make_auth(server, InMemoryTokenStore()).headers()


def test_json_file_store_round_trips_atomically_with_private_mode(tmp_path):
    path = tmp_path / "secrets" / "tokens.json"
    store = JsonFileTokenStore(path)
    assert isinstance(store, TokenStore)
    assert store.load("acme", "xero") is None
    first, second = stored("a1-secret", "r1-secret"), stored("a2-secret", "r2-secret")
    store.save("acme", "xero", first)
    store.save("globex", "xero", second)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.load("acme", "xero") == first
    assert JsonFileTokenStore(path).load("globex", "xero") == second
    assert sorted(json.loads(path.read_text())) == ["xero/acme", "xero/globex"]
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left


def test_token_set_repr_hides_secrets():
    tokens = stored("visible-access-secret", "visible-refresh-secret")
    text = repr(tokens) + str(tokens)
    assert "visible-access-secret" not in text and "visible-refresh-secret" not in text


def test_redact_replaces_every_secret():
    assert redact("Bearer abcd1234 and abcd1234x", ["abcd1234", None, ""]) == \
        "Bearer [REDACTED] and [REDACTED]x"


def test_secrets_and_personal_data_never_reach_the_logs(server, caplog):
    """A run with a refresh, a 5xx retry, a 400 and a where clause holding an e-mail address."""
    endpoint = RotatingTokenEndpoint("refresh-0-secret")
    server.always("/connect/token", endpoint)
    server.script("/api/Contacts", endpoint.api, Step(503), endpoint.api,
                  Step(400, {"Message": "bad", "Elements": []}))
    server.always("/api/Contacts", endpoint.api)
    store = InMemoryTokenStore()
    store.save("acme", "xero", stored())
    email = "jane.doe@example.co.za"
    where = f'EmailAddress=="{email}"'
    caplog.set_level(logging.DEBUG)
    with VendorHttpClient("xero", server.url, tenant="acme", auth=make_auth(server, store),
                          retry=RetryPolicy(backoff_base=0.001),
                          default_headers={"xero-tenant-id": "tenant-guid"}) as client:
        client.get("/api/Contacts", params={"where": where})
        with pytest.raises(Exception):
            client.put("/api/Contacts", params={"where": where}, json_body={"Name": email})
    assert len(server.calls("/connect/token")) == 1
    secrets = ["access-0-secret", "access-1-secret", "refresh-0-secret", "refresh-1-secret",
               CLIENT_SECRET, email, "jane.doe", "EmailAddress%3D%3D"]
    captured = [r for r in caplog.records if r.name.startswith("ledgerlink")]
    assert captured, "the run should have logged"
    for record in captured:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked into log: {record.getMessage()}"
    assert any(getattr(r, "query_keys", None) == ["where"] for r in captured)
