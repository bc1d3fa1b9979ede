"""Where ledgerlink keeps its files and which database it uses, from the environment.

One setting moves the store from the embedded SQLite file to PostgreSQL:
`LEDGERLINK_DATABASE_URL=postgresql+psycopg://user@host:5432/db`.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The data folder: `LEDGERLINK_HOME`, else `.ledgerlink/` in the working directory."""
    path = Path(os.environ.get("LEDGERLINK_HOME") or Path.cwd() / ".ledgerlink")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("LEDGERLINK_DATABASE_URL") or f"sqlite:///{home() / 'ledgerlink.db'}"


def project_root() -> Path:
    """The repository (or installed tree) root that holds flows/, expectations/ and deployments/."""
    return Path(__file__).resolve().parent.parent
