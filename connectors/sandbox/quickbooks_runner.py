"""Start the QuickBooks Online emulator on loopback in a background thread, and stop it.

The lead wires this into `start_sandboxes`; on its own it serves tests and the demo. Like the other
emulators it binds 127.0.0.1:0 (or a given port), can load/save its state from a JSON file, and
seeds the South African company's pre-existing customers when asked (`seed`) and empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.loopback import LoopbackServer
from connectors.sandbox import jsonio
from connectors.sandbox.quickbooks_app import TOKEN_PATH, build_quickbooks_app
from connectors.sandbox.quickbooks_state import DEFAULT_REALM_ID, QuickBooksState


@dataclass
class QuickBooksSandbox:
    """A running emulator: URLs, credentials, the live state, and stop()."""

    state: QuickBooksState
    url: str
    state_path: Path | None = None
    seed_report: Any = None
    _server: LoopbackServer | None = field(default=None, repr=False)

    @property
    def api_url(self) -> str:
        """What `QuickBooksConnector` takes as `base_url` (it adds /v3/company/{realm_id})."""
        return self.url

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    @property
    def realm_id(self) -> str:
        return self.state.realm_id

    @property
    def client_id(self) -> str:
        return self.state.auth.client_id

    @property
    def client_secret(self) -> str:
        return self.state.auth.client_secret

    @property
    def refresh_token(self) -> str:
        """The refresh token valid right now (it rotates on every refresh)."""
        return self.state.auth.current_refresh_token

    def access_token(self) -> str:
        """A fresh access token without the refresh flow (tests, demo)."""
        return self.state.auth.issue_access_token()[0]

    def credentials(self) -> dict[str, str]:
        return {"quickbooks_url": self.url, "quickbooks_api_url": self.api_url,
                "quickbooks_token_url": self.token_url, "quickbooks_realm_id": self.realm_id,
                "quickbooks_client_id": self.client_id, "quickbooks_client_secret": self.client_secret,
                "quickbooks_refresh_token": self.refresh_token}

    def set_limits(self, enabled: bool | None = None, time_scale: float | None = None) -> None:
        if enabled is not None:
            self.state.limit_settings.enabled = enabled
        if time_scale is not None:
            self.state.limit_settings.time_scale = time_scale

    def save(self, path: Path | str | None = None) -> Path:
        target = Path(path or self.state_path or "quickbooks-sandbox-state.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(jsonio.dumps(self.state.to_dict()), encoding="utf-8")
        temporary.replace(target)
        return target

    def stop(self, save: bool = True) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            if save and self.state_path is not None:
                self.save()

    def __enter__(self) -> "QuickBooksSandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_quickbooks_sandbox(seed: int | None = None, limits: bool = True, time_scale: float = 1.0, *,
                             client_id: str = "qbo-sandbox-client",
                             client_secret: str = "qbo-sandbox-secret",
                             refresh_token: str = "qbo-rt-sandbox-0",
                             realm_id: str = DEFAULT_REALM_ID, latency_s: float = 0.0,
                             port: int = 0, host: str = "127.0.0.1", deals: int = 60,
                             state_path: Path | str | None = None,
                             limit_overrides: dict[str, int] | None = None) -> QuickBooksSandbox:
    """Start the emulator and return once it accepts connections.

    `seed`: when the (loaded) company has no customers yet, add the pre-existing ones
    (deterministic; `deals` as given to `start_sandboxes`, so the same CRM companies come out).
    `limits`/`time_scale`: QBO's budgets on or off, and time compression of windows and tokens.
    `limit_overrides`: per_minute / batch_per_minute / concurrent for tests that study limits.
    """
    state = QuickBooksState(realm_id=realm_id, client_id=client_id, client_secret=client_secret,
                            refresh_token=refresh_token)
    path = Path(state_path) if state_path is not None else None
    if path is not None and path.exists():
        state.load_dict(jsonio.loads(path.read_text(encoding="utf-8")))
    report = None
    if seed is not None and state.is_empty():
        from connectors.sandbox.quickbooks_seed import seed_quickbooks
        report = seed_quickbooks(state, seed=seed, deals=deals)
    state.limit_settings.enabled = limits
    state.limit_settings.time_scale = time_scale
    server = LoopbackServer(build_quickbooks_app(state, latency_s=latency_s, **(limit_overrides or {})),
                            "sandbox-quickbooks", host=host, port=port).start()
    return QuickBooksSandbox(state=state, url=server.url, state_path=path, seed_report=report,
                             _server=server)
