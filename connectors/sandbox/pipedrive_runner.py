"""Start the Pipedrive emulator on loopback, in a background thread, and stop it cleanly.

The same shape as `runner.start_sandboxes` (which the lead wires this into): a free port on
127.0.0.1, optional seeding of the SME books, limits on or off and time-compressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.loopback import LoopbackServer
from connectors.sandbox.pipedrive_app import build_pipedrive_app
from connectors.sandbox.pipedrive_limits import daily_token_budget
from connectors.sandbox.pipedrive_state import PipedriveState

DEFAULT_TOKEN = "sandbox-pipedrive-token"


@dataclass
class PipedriveSandbox:
    """A running emulator: its URL (the company domain root), API token, live state, stop()."""

    state: PipedriveState
    url: str
    seed_report: Any = None
    _server: LoopbackServer | None = field(default=None, repr=False)

    @property
    def token(self) -> str:
        return self.state.token

    def set_limits(self, enabled: bool | None = None, time_scale: float | None = None) -> None:
        if enabled is not None:
            self.state.limit_settings.enabled = enabled
        if time_scale is not None:
            self.state.limit_settings.time_scale = time_scale

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "PipedriveSandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_pipedrive_sandbox(seed: int | None = None, deals: int = 60, limits: bool = True,
                            time_scale: float = 1.0, token: str = DEFAULT_TOKEN, burst: int = 80,
                            daily_tokens: int = daily_token_budget(3, 5), latency_s: float = 0.0,
                            port: int = 0, *, host: str = "127.0.0.1", bad: bool = True,
                            state: PipedriveState | None = None) -> PipedriveSandbox:
    """Start the emulator and return once it accepts connections.

    `seed`: seed the SME books (`deals` deals, `bad` defective ones included) into an empty
    state. `state`: serve an existing (e.g. loaded) state instead of a new one.
    """
    state = state if state is not None else PipedriveState(token=token)
    report = None
    if seed is not None and state.is_empty():
        from connectors.sandbox.pipedrive_seed import seed_pipedrive
        report = seed_pipedrive(state, deals=deals, seed=seed, bad=bad)
    state.limit_settings.enabled = limits
    state.limit_settings.time_scale = time_scale
    app = build_pipedrive_app(state, burst=burst, daily_tokens=daily_tokens, latency_s=latency_s)
    server = LoopbackServer(app, "sandbox-pipedrive", host=host, port=port).start()
    return PipedriveSandbox(state=state, url=server.url, seed_report=report, _server=server)
