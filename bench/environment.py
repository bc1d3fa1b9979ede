"""What every benchmark sets up first: a throw-away data folder and store, Prefect kept quiet and
off the internet, so figures come from a fresh, local, embedded default every time."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def isolated_home(prefix: str) -> Path:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["LEDGERLINK_HOME"] = str(home)
    os.environ["LEDGERLINK_DATABASE_URL"] = f"sqlite:///{home / 'store.db'}"
    return home
