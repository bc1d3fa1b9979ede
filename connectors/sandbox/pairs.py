"""Any CRM emulator with any accounting emulator, seeded with the same South African SME's books.

HubSpot or Pipedrive on the CRM side, Xero or QuickBooks Online on the accounting side: the same
companies, deals (bad ones included) and pre-existing accounting customers come out whichever
pair is asked for, because every seeder starts from `seed.seed_books`. State is kept in one JSON
file per pair, so a demo picks up where it stopped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.loopback import LoopbackServer
from connectors.sandbox import jsonio
from connectors.sandbox.pair_sides import HubSpotSide, PipedriveSide, QuickBooksSide, Side, XeroSide

CRMS = ("hubspot", "pipedrive")
ACCOUNTING = ("xero", "quickbooks")
PAIR_FORMAT = "ledgerlink-sandbox-pair/1"


@dataclass
class SandboxPair:
    crm: Side
    accounting: Side
    state_path: Path | None = None
    seed_report: Any = None

    @property
    def systems(self) -> tuple[str, str]:
        return self.crm.system, self.accounting.system

    def sides(self) -> tuple[Side, Side]:
        return self.crm, self.accounting

    def tenant_connections(self, prefix: str) -> tuple[dict, dict, dict[str, str]]:
        """(crm section, accounting section, env values) of a tenant pointed at these emulators."""
        crm, crm_env = self.crm.connection(prefix)
        accounting, accounting_env = self.accounting.connection(prefix)
        return crm, accounting, {**crm_env, **accounting_env}

    def set_limits(self, enabled: bool | None = None, time_scale: float | None = None) -> None:
        for side in self.sides():
            side.set_limits(enabled, time_scale)

    def reset_stats(self) -> None:
        for side in self.sides():
            side.stats.reset()

    def calls(self) -> int:
        return sum(side.stats.snapshot()["total"] for side in self.sides())

    def save(self, path: Path | None = None) -> Path:
        target = Path(path or self.state_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = jsonio.dumps({"format": PAIR_FORMAT, "crm": [self.crm.system, self.crm.state.to_dict()],
                             "accounting": [self.accounting.system, self.accounting.state.to_dict()]})
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
        return target

    def stop(self, save: bool = True) -> None:
        for side in self.sides():
            side.stop()
        if save and self.state_path is not None:
            self.save()

    def __enter__(self) -> "SandboxPair":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _states(crm: str, accounting: str) -> tuple[Any, Any]:
    if crm == "hubspot":
        from connectors.sandbox.hubspot_state import HubSpotState
        crm_state = HubSpotState()
    else:
        from connectors.sandbox.pipedrive_state import PipedriveState
        crm_state = PipedriveState()
    if accounting == "xero":
        from connectors.sandbox.xero_state import XeroState
        accounting_state = XeroState()
    else:
        from connectors.sandbox.quickbooks_state import QuickBooksState
        accounting_state = QuickBooksState()
    return crm_state, accounting_state


def _seed(crm: str, accounting: str, crm_state: Any, accounting_state: Any, *, deals: int, seed: int,
          bad: bool) -> Any:
    """Both sides from the one `seed_books` run, so ids, names and defects agree across vendors."""
    from connectors.sandbox.hubspot_state import HubSpotState
    from connectors.sandbox.seed import seed_books
    from connectors.sandbox.xero_state import XeroState

    xero = accounting_state if accounting == "xero" else XeroState()
    if crm == "hubspot":
        report = seed_books(crm_state, xero, deals=deals, seed=seed, bad=bad)
        hubspot = crm_state
    else:
        from connectors.sandbox.pipedrive_seed import seed_pipedrive
        report = seed_pipedrive(crm_state, deals=deals, seed=seed, bad=bad, xero=xero)
        hubspot = None
    if accounting == "quickbooks":
        from connectors.sandbox.quickbooks_seed import seed_quickbooks
        seed_quickbooks(accounting_state, seed=seed, deals=deals,
                        hubspot=hubspot if isinstance(hubspot, HubSpotState) else None)
    return report


def _serve(system: str, state: Any, *, latency_s: float, host: str) -> Side:
    if system == "hubspot":
        from connectors.sandbox.hubspot_app import build_hubspot_app
        app, side = build_hubspot_app(state, latency_s=latency_s), HubSpotSide
    elif system == "pipedrive":
        from connectors.sandbox.pipedrive_app import build_pipedrive_app
        app, side = build_pipedrive_app(state, latency_s=latency_s), PipedriveSide
    elif system == "xero":
        from connectors.sandbox.xero_app import build_xero_app
        app, side = build_xero_app(state, latency_s=latency_s), XeroSide
    else:
        from connectors.sandbox.quickbooks_app import build_quickbooks_app
        app, side = build_quickbooks_app(state, latency_s=latency_s), QuickBooksSide
    server = LoopbackServer(app, f"sandbox-{system}", host=host).start()
    return side(system=system, state=state, url=server.url, server=server)


def start_pair(crm: str = "hubspot", accounting: str = "xero", *, state_path: Path | str | None = None,
               limits: bool = True, time_scale: float = 1.0, seed: int | None = None, deals: int = 60,
               bad: bool = True, latency_s: float = 0.0, host: str = "127.0.0.1") -> SandboxPair:
    """Start one CRM and one accounting emulator; load `state_path` if it exists, else seed when
    `seed` is given. Unknown systems are refused by name."""
    if crm not in CRMS:
        raise ValueError(f"no CRM sandbox {crm!r} (choose from {', '.join(CRMS)})")
    if accounting not in ACCOUNTING:
        raise ValueError(f"no accounting sandbox {accounting!r} (choose from {', '.join(ACCOUNTING)})")
    crm_state, accounting_state = _states(crm, accounting)
    path = Path(state_path) if state_path is not None else None
    report = None
    if path is not None and path.exists():
        data = jsonio.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != PAIR_FORMAT or (data["crm"][0], data["accounting"][0]) != (crm, accounting):
            raise ValueError(f"{path} holds another sandbox pair; start over with --reset")
        crm_state.load_dict(data["crm"][1])
        accounting_state.load_dict(data["accounting"][1])
    elif seed is not None:
        report = _seed(crm, accounting, crm_state, accounting_state, deals=deals, seed=seed, bad=bad)
    for state in (crm_state, accounting_state):
        state.limit_settings.enabled = limits
        state.limit_settings.time_scale = time_scale
    crm_side = _serve(crm, crm_state, latency_s=latency_s, host=host)
    try:
        accounting_side = _serve(accounting, accounting_state, latency_s=latency_s, host=host)
    except Exception:
        crm_side.stop()
        raise
    return SandboxPair(crm_side, accounting_side, state_path=path, seed_report=report)
