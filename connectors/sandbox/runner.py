"""Start both emulators on loopback, in background threads, and stop them cleanly.

Tests, the demo and benchmarks need real HTTP (the connectors under test use real clients) but
no network and no fixed ports: each server binds 127.0.0.1:0 on its own thread and event loop
and the bound port is read back. State can be loaded from / saved to a JSON file so a demo can
pick up where it stopped; an empty state can be seeded with the dummy South African books.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


from connectors.loopback import LoopbackServer
from connectors.sandbox import jsonio
from connectors.sandbox.hubspot_app import build_hubspot_app
from connectors.sandbox.hubspot_state import HubSpotState
from connectors.sandbox.xero_app import build_xero_app
from connectors.sandbox.xero_state import DEFAULT_TENANT_ID, XeroState

STATE_FORMAT = "ledgerlink-sandboxes/1"


@dataclass
class Sandboxes:
    """Running emulators: URLs, credentials, the live state objects, and stop()."""

    hubspot: HubSpotState
    xero: XeroState
    hubspot_url: str
    xero_url: str
    state_path: Path | None = None
    seed_report: Any = None            # seed.SeedReport when this start seeded the books
    _servers: list[LoopbackServer] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    # ---- credentials --------------------------------------------------------------------
    @property
    def hubspot_token(self) -> str:
        return self.hubspot.token

    @property
    def xero_api_url(self) -> str:
        """Base URL of the Accounting API (…/api.xro/2.0)."""
        return f"{self.xero_url}/api.xro/2.0"

    @property
    def xero_token_url(self) -> str:
        return f"{self.xero_url}/connect/token"

    @property
    def xero_client_id(self) -> str:
        return self.xero.auth.client_id

    @property
    def xero_client_secret(self) -> str:
        return self.xero.auth.client_secret

    @property
    def xero_refresh_token(self) -> str:
        """The refresh token that is valid right now (it rotates on every refresh)."""
        return self.xero.auth.current_refresh_token

    @property
    def xero_tenant_id(self) -> str:
        return self.xero.default_tenant_id

    def xero_access_token(self) -> str:
        """A fresh access token without going through the refresh flow (tests, demo)."""
        return self.xero.auth.issue_access_token()[0]

    def credentials(self) -> dict[str, str]:
        return {"hubspot_url": self.hubspot_url, "hubspot_token": self.hubspot_token,
                "xero_url": self.xero_url, "xero_api_url": self.xero_api_url,
                "xero_token_url": self.xero_token_url, "xero_client_id": self.xero_client_id,
                "xero_client_secret": self.xero_client_secret,
                "xero_refresh_token": self.xero_refresh_token, "xero_tenant_id": self.xero_tenant_id}

    def as_pair(self):  # noqa: ANN201 - pairs.SandboxPair
        """The same two emulators seen as a `pairs.SandboxPair` (stopping stays with this object)."""
        from connectors.sandbox.pair_sides import HubSpotSide, XeroSide
        from connectors.sandbox.pairs import SandboxPair

        return SandboxPair(HubSpotSide("hubspot", self.hubspot, self.hubspot_url),
                           XeroSide("xero", self.xero, self.xero_url))

    # ---- knobs --------------------------------------------------------------------------
    def set_limits(self, enabled: bool | None = None, time_scale: float | None = None) -> None:
        for settings in (self.hubspot.limit_settings, self.xero.limit_settings):
            if enabled is not None:
                settings.enabled = enabled
            if time_scale is not None:
                settings.time_scale = time_scale

    def reset_stats(self) -> None:
        self.hubspot.stats.reset()
        self.xero.stats.reset()

    # ---- lifecycle ----------------------------------------------------------------------
    def save(self, path: Path | str | None = None) -> Path:
        target = Path(path or self.state_path or "sandbox-state.json")
        save_state(target, self.hubspot, self.xero)
        return target

    def stop(self, save: bool = True) -> None:
        if self._stopped:
            return
        self._stopped = True
        for server in self._servers:
            server.stop()
        if save and self.state_path is not None:
            self.save()

    def __enter__(self) -> "Sandboxes":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Bulk (de)serialisation allocates millions of small objects; cyclic GC passes over them
    would triple the time and find nothing to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def save_state(path: Path, hubspot: HubSpotState, xero: XeroState) -> None:
    """Write both emulators' data to one JSON file, atomically."""
    with _gc_paused():
        _save_state(path, hubspot, xero)


def _save_state(path: Path, hubspot: HubSpotState, xero: XeroState) -> None:
    # HubSpot data is all strings and ints (the fast C encoder will do); Xero's holds Decimals.
    text = (f'{{"format":{json.dumps(STATE_FORMAT)},'
            f'"hubspot":{json.dumps(hubspot.to_dict(), separators=(",", ":"))},'
            f'"xero":{jsonio.dumps(xero.to_dict())}}}')
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def load_state(path: Path, hubspot: HubSpotState, xero: XeroState) -> None:
    """Replace both emulators' data with what `save_state` wrote."""
    with _gc_paused():
        data = jsonio.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"{path} is not a ledgerlink sandbox state file")
        hubspot.load_dict(data["hubspot"])
        xero.load_dict(data["xero"])


def start_sandboxes(state_path: Path | str | None = None, limits: bool = True, time_scale: float = 1.0,
                    seed: int | None = None, *, deals: int = 60, bad: bool = True,
                    host: str = "127.0.0.1", hubspot_port: int = 0, xero_port: int = 0,
                    hubspot_token: str = "pat-sandbox-hubspot", hubspot_burst: int = 100,
                    hubspot_daily: int = 250_000, xero_client_id: str = "sandbox-client",
                    xero_client_secret: str = "sandbox-secret", xero_refresh_token: str = "rt-sandbox-0",
                    xero_tenant_id: str = DEFAULT_TENANT_ID, xero_refresh_grace_s: float = 0.0,
                    xero_limits: dict[str, int] | None = None, latency_s: float = 0.0) -> Sandboxes:
    """Start the HubSpot and Xero emulators and return once both accept connections.

    `state_path`: load it if it exists, save to it on stop(). `seed`: when the loaded state is
    empty, seed the dummy books (`deals` deals, `bad` defective ones included) deterministically.
    `limits`/`time_scale`: vendor rate limits on/off and time compression. `latency_s` adds a
    fixed delay to every API call (makes Xero's concurrency limit reachable in tests).
    """
    hubspot = HubSpotState(token=hubspot_token)
    xero = XeroState(tenant_id=xero_tenant_id, client_id=xero_client_id,
                     client_secret=xero_client_secret, refresh_token=xero_refresh_token,
                     refresh_grace_s=xero_refresh_grace_s)
    path = Path(state_path) if state_path is not None else None
    if path is not None and path.exists():
        load_state(path, hubspot, xero)
    report = None
    if seed is not None and hubspot.is_empty() and xero.is_empty():
        from connectors.sandbox.seed import seed_books
        report = seed_books(hubspot, xero, deals=deals, seed=seed, bad=bad)
    for settings in (hubspot.limit_settings, xero.limit_settings):
        settings.enabled = limits
        settings.time_scale = time_scale
    servers = [
        LoopbackServer(build_hubspot_app(hubspot, burst=hubspot_burst, daily=hubspot_daily, latency_s=latency_s),
                       "sandbox-hubspot", host=host, port=hubspot_port),
        LoopbackServer(build_xero_app(xero, latency_s=latency_s, **(xero_limits or {})),
                       "sandbox-xero", host=host, port=xero_port),
    ]
    try:
        for server in servers:
            server.start()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return Sandboxes(hubspot=hubspot, xero=xero, hubspot_url=f"http://{host}:{servers[0].port}",
                     xero_url=f"http://{host}:{servers[1].port}", state_path=path, seed_report=report,
                     _servers=servers)
