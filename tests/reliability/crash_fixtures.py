"""Fixtures of the crash and concurrency tests: child processes forked from a preloaded server,
tenant worlds built from one seed, the store on each backend, and the clean run each kind of
world is compared with (once per session and pair of vendors). conftest.py imports them."""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

import crash_child
from crash_kill_plan import CI_SEED, ci_plan
from crash_loop import clean_run, crash_until_complete
from crash_outcome import fingerprint, snapshot
from crash_world import PAIRS, open_world

# The session's Prefect server stores events within half a second instead of five: the tests read
# the onboarding events back, and would otherwise wait for the event persister.
os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL", "0.5")


@pytest.fixture(scope="session")
def children():
    """Where child runs come from (see crash_child.start_method). The fork server starts now and
    imports while the Prefect server starts: ask for this fixture first."""
    import multiprocessing.forkserver

    context = crash_child.start_method()
    multiprocessing.forkserver.ensure_running()
    return context


@pytest.fixture(scope="session")
def prefect_env(prefect_server) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_LOGGING_LEVEL": "WARNING"}


@pytest.fixture
def worlds(tmp_path, prefect_env):
    """make(crm, accounting, database_url=None, **env) → a fresh world; all stopped afterwards."""
    made = []

    def make(crm: str, accounting: str, database_url: str | None = None, name: str = "world", **env: str):
        world = open_world(crm, accounting, tmp_path / f"{name}-{len(made)}", database_url)
        world.env.update(prefect_env, **env)
        made.append(world)
        return world

    yield make
    for world in made:
        world.stop()


@pytest.fixture(scope="session")
def clean(tmp_path_factory, prefect_env, children):
    """clean(crm, accounting) → crash_loop.Clean of an uninterrupted run, computed once per pair
    (thread-safe: the crash runs of both pairs ask for theirs at the same time)."""
    done, locks = {}, {pair: threading.Lock() for pair in PAIRS}

    def get(crm: str, accounting: str):
        with locks[(crm, accounting)]:
            if (crm, accounting) not in done:
                world = open_world(crm, accounting, tmp_path_factory.mktemp(f"clean-{crm}-{accounting}"))
                world.env.update(prefect_env)
                try:
                    done[(crm, accounting)] = clean_run(world, children)
                finally:
                    world.stop()
        return done[(crm, accounting)]

    return get


@dataclass
class Crashed:
    """A world taken through the CI kill plan, and what it left."""

    clean: object  # crash_loop.Clean
    plan: list
    run: object  # crash_loop.CrashRun
    final: object  # crash_outcome.Fingerprint, read before the world stopped


@pytest.fixture(scope="session")
def crashed(children, clean, prefect_env, tmp_path_factory):
    """crashed(crm, accounting) → Crashed. The first call starts both vendor pairs at once, in two
    threads: their child runs share the two cores, and each test waits only for its own pair."""
    pool, futures = ThreadPoolExecutor(max_workers=len(PAIRS)), {}

    def crash(crm: str, accounting: str) -> Crashed:
        yardstick = clean(crm, accounting)
        world = open_world(crm, accounting, tmp_path_factory.mktemp(f"crashed-{crm}-{accounting}"))
        world.env.update(prefect_env, LEDGERLINK_INTENT_LEASE_SECONDS="0")  # a killed run holds nothing
        try:
            plan = ci_plan(CI_SEED, yardstick.profile)
            run = crash_until_complete(world, children, plan, yardstick.final)
            return Crashed(yardstick, plan, run, fingerprint(snapshot(world, events=True)))
        finally:
            world.stop()

    def get(crm: str, accounting: str) -> Crashed:
        if not futures:
            futures.update({pair: pool.submit(crash, *pair) for pair in PAIRS})
        return futures[(crm, accounting)].result()

    yield get
    pool.shutdown(wait=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The store's URL on each supported backend: a SQLite file, or a fresh PostgreSQL schema
    (dropped afterwards). An unreachable PostgreSQL fails loudly, as in tests/conftest.py."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if os.environ.get("LEDGERLINK_SKIP_POSTGRES") == "1":
        pytest.skip("LEDGERLINK_SKIP_POSTGRES=1: PostgreSQL tests switched off on this machine")
    from sqlalchemy import create_engine, text

    base = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"ll_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
