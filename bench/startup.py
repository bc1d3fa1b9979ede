"""Start-up: `ledgerlink --help` (target ≤ 0.5 s: no Prefect or GX import on that path) and the
first run of `ledgerlink demo` on a fresh install (target: first progress within 15 s).

    python -m bench.startup

"Fresh install" is simulated with an empty bytecode cache (`PYTHONPYCACHEPREFIX` pointing at a new
folder, so every module is compiled again, as after `pip install`) and an empty data folder. The
demo is stopped after its first report. Prints figures, never asserts.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def help_seconds(runs: int = 10) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ledgerlink.cli", "--help"], capture_output=True, check=True)
        timings.append(time.perf_counter() - started)
    return timings


def first_demo_lines(limit_s: float = 300) -> tuple[float | None, float | None, str]:
    """(seconds to the first line, seconds to the first report, the first line) of a fresh demo."""
    home, cache = tempfile.mkdtemp(prefix="ledgerlink-startup-"), tempfile.mkdtemp(prefix="pycache-")
    env = {**os.environ, "LEDGERLINK_HOME": home, "PYTHONPYCACHEPREFIX": cache, "PREFECT_HOME": f"{home}/prefect",
           "PYTHONUNBUFFERED": "1"}
    for name in ("LEDGERLINK_DATABASE_URL", "LEDGERLINK_TENANTS", "PREFECT_API_URL"):
        env.pop(name, None)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "ledgerlink.cli", "demo"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    first = report = None
    first_line = ""
    try:
        for line in child.stdout:
            now = time.perf_counter() - started
            if first is None:
                first, first_line = now, line.strip()
            if "contact-to-accounting-contact for tenant" in line:
                report = now
                break
            if now > limit_s:
                break
    finally:
        child.kill()
        child.wait()
    return first, report, first_line


def main() -> None:
    timings = help_seconds()
    print(f"cores {os.cpu_count()} · python {sys.version.split()[0]}")
    print(f"ledgerlink --help     : median {statistics.median(timings):.3f}s, best {min(timings):.3f}s "
          f"over {len(timings)} runs (target ≤ 0.5 s; includes the interpreter's own start)")
    first, report, line = first_demo_lines()
    print(f"demo, fresh install   : first progress after {first:.1f}s ({line[:60]!r}), first report after "
          f"{report:.1f}s (target: first progress ≤ 15 s)" if first is not None and report is not None
          else f"demo, fresh install   : first progress after {first}s, no report seen")


if __name__ == "__main__":
    main()
