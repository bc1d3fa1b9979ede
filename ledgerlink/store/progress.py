"""Cursors, run records and OAuth tokens: the small per-tenant state a handoff carries between runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import func, select

from ledgerlink.store.tables import OAuthToken, SyncCursor, SyncRun, utcnow
from ledgerlink.store.upsert import upsert

if TYPE_CHECKING:
    from ledgerlink.store.repository import Store


class Cursors:
    def __init__(self, store: "Store"):
        self._store = store

    def get(self, tenant: str, handoff: str) -> str | None:
        with self._store.session() as session:
            row = session.get(SyncCursor, (tenant, handoff))
            return row.value if row else None

    def set(self, tenant: str, handoff: str, value: str) -> None:
        """Call only once the writes the cursor covers are durable (links committed)."""
        with self._store.session() as session:
            upsert(
                session,
                SyncCursor.__table__,
                [{"tenant": tenant, "handoff": handoff, "value": value, "updated_at": utcnow()}],
                ["tenant", "handoff"],
                ["value", "updated_at"],
            )


class Runs:
    def __init__(self, store: "Store"):
        self._store = store

    def start(self, tenant: str, handoff: str, run_id: str | None) -> int:
        with self._store.session() as session:
            run = SyncRun(tenant=tenant, handoff=handoff, run_id=run_id, config_version=self._store.config_version)
            session.add(run)
            session.flush()
            return int(run.id)

    def finish(self, run_pk: int, status: str, counts: dict, api: dict) -> None:
        with self._store.session() as session:
            run = session.get(SyncRun, run_pk)
            run.status, run.counts, run.api, run.finished_at = status, counts, api, utcnow()
            session.add(run)

    def last_success(self, tenant: str, handoff: str) -> datetime | None:
        """When the handoff last finished a run that completed (None: never)."""
        with self._store.session() as session:
            return session.exec(select(func.max(SyncRun.finished_at)).where(
                SyncRun.tenant == tenant, SyncRun.handoff == handoff, SyncRun.status == "completed")).one()

    def recent(self, tenant: str | None = None, limit: int = 20) -> list[SyncRun]:
        with self._store.session() as session:
            query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
            if tenant:
                query = query.where(SyncRun.tenant == tenant)
            return list(session.exec(query))


class Tokens:
    """Raw token rows; connectors wrap this in their TokenStore protocol."""

    def __init__(self, store: "Store"):
        self._store = store

    def load(self, tenant: str, vendor: str) -> OAuthToken | None:
        with self._store.session() as session:
            return session.get(OAuthToken, (tenant, vendor))

    def save(self, tenant: str, vendor: str, access_token: str, refresh_token: str, expires_at: datetime) -> None:
        """Committed before returning: the rotated refresh token must survive a crash right after."""
        row = {
            "tenant": tenant,
            "vendor": vendor,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_at": expires_at,
            "updated_at": utcnow(),
        }
        with self._store.session() as session:
            upsert(session, OAuthToken.__table__, [row], ["tenant", "vendor"],
                   ["access_token", "refresh_token", "expires_at", "updated_at"])
