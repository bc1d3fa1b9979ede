"""A seeded sandbox pair in a process of its own, so a benchmark measures ledgerlink's cost and
not the emulators' (in one process they would share one interpreter lock; a real vendor is on
another machine).

    python -m bench.sandbox_process --crm hubspot --accounting xero --deals 20000

prints one JSON line (URLs, connection sections, seed figures) and serves until its standard
input closes. `SandboxProcess` does that from a benchmark and reads the emulators' own counters
over their `/_sandbox/stats` routes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

import httpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crm", default="hubspot")
    parser.add_argument("--accounting", default="xero")
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limits", action="store_true")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()

    from connectors.sandbox.pairs import start_pair

    pair = start_pair(args.crm, args.accounting, seed=args.seed, deals=args.deals, limits=args.limits,
                      time_scale=args.time_scale)
    crm, accounting, env = pair.tenant_connections("LEDGERLINK_BENCH")
    report = pair.seed_report
    print(json.dumps({"crm": crm, "accounting": accounting, "env": env, "crm_url": pair.crm.url,
                      "accounting_url": pair.accounting.url, "won": report.won_deals,
                      "bad": sum(len(ids) for ids in report.bad_deals.values())}), flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    pair.stop(save=False)


class SandboxProcess:
    """The emulators in a child process, seen as a pair (`flows.demo.demo_tenants_file` takes it)."""

    def __init__(self, crm: str = "hubspot", accounting: str = "xero", *, deals: int, seed: int = 7,
                 limits: bool = False, time_scale: float = 1.0) -> None:
        command = [sys.executable, "-m", "bench.sandbox_process", "--crm", crm, "--accounting", accounting,
                   "--deals", str(deals), "--seed", str(seed), "--time-scale", str(time_scale)]
        self.child = subprocess.Popen(command + (["--limits"] if limits else []), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox process did not start")
        self.info: dict[str, Any] = json.loads(line)
        self.systems = (crm, accounting)
        self.won, self.bad = self.info["won"], self.info["bad"]

    def tenant_connections(self, prefix: str) -> tuple[dict, dict, dict[str, str]]:
        env = {name.replace("LEDGERLINK_BENCH", prefix, 1): value for name, value in self.info["env"].items()}
        swap = lambda section: {k: (v.replace("LEDGERLINK_BENCH", prefix, 1) if isinstance(v, str) else v)  # noqa: E731
                                for k, v in section.items()}
        return swap(self.info["crm"]), swap(self.info["accounting"]), env

    def _control(self, side: str, path: str, method: str = "GET") -> dict:
        url = self.info["crm_url" if side == "crm" else "accounting_url"]
        return httpx.request(method, f"{url}/_sandbox/{path}", timeout=30).json()

    def stats(self, side: str) -> dict:
        return self._control(side, "stats")

    def reset_stats(self) -> None:
        for side in ("crm", "accounting"):
            self._control(side, "stats/reset", "POST")

    def calls(self) -> int:
        return sum(self.stats(side)["total"] for side in ("crm", "accounting"))

    def set_limits(self, enabled: bool, time_scale: float | None = None) -> None:
        body = {"enabled": enabled, **({"time_scale": time_scale} if time_scale else {})}
        for side in ("crm", "accounting"):
            url = self.info["crm_url" if side == "crm" else "accounting_url"]
            httpx.post(f"{url}/_sandbox/limits", json=body, timeout=30)

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.stdin.close()
            self.child.wait(timeout=60)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__":
    main()
