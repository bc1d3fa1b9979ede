"""The store under concurrent writers, on SQLite and on PostgreSQL: what two runs of a handoff do
to it at the same moment. Each promise here is one a run relies on when another run is working
on the same tenant: a record is claimed for sending by one run only, a link saved twice is new
once, a fact and its audit event commit together, and racing inserts never fail a run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException

T = "acme"


def _at_once(count: int, work) -> list:
    """Run work(n) in `count` threads released together; the results (or exceptions) in order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_runs_building_the_same_batch_claim_each_record_once(store):
    """Two runs reading the same deals build the same batch, hence the same idempotency key."""
    items = {"DEAL-1": "h1", "DEAL-2": "h2"}
    assert store.intents.claim(T, "h", "invoice", items, "ll-same", "run-1") == ["DEAL-1", "DEAL-2"]
    assert store.intents.claim(T, "h", "invoice", items, "ll-same", "run-2") == []
    claims = _at_once(2, lambda n: store.intents.claim(T, "h", "invoice", {f"DEAL-{i}": "h" for i in range(3, 60)},
                                                      "ll-other", f"run-{n}"))
    assert sorted(claims[0] + claims[1]) == sorted(f"DEAL-{i}" for i in range(3, 60))


def test_a_link_saved_again_is_not_new(store):
    assert store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1"}]) == {"d1"}
    assert store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1"},
                                           {"crm_id": "d2", "accounting_id": "inv-2"}]) == {"d2"}
    assert store.links.save(T, "invoice", [{"crm_id": "d2", "accounting_id": "inv-9"}]) == {"d2"}  # repointed
    saves = _at_once(2, lambda n: store.links.save(T, "invoice", [{"crm_id": f"d{i}", "accounting_id": f"inv-{i}"}
                                                                  for i in range(10, 40)]))
    assert sorted(saves[0] | saves[1]) == sorted(f"d{i}" for i in range(10, 40)) and not saves[0] & saves[1]


def test_a_fact_and_its_audit_event_commit_together_or_not_at_all(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1"}])
            store.audit.append(T, [NewAuditEvent("invoice.created", deal_id="d1")])
            raise RuntimeError("the process dies here")
    assert store.links.count(T, "invoice") == 0 and store.audit.search(T) == []
    with store.transaction():
        store.links.save(T, "invoice", [{"crm_id": "d1", "accounting_id": "inv-1"}])
        store.audit.append(T, [NewAuditEvent("invoice.created", deal_id="d1")])
    assert store.links.count(T, "invoice") == 1 and len(store.audit.search(T)) == 1
    assert store.audit.verify(T) is None


def test_two_runs_queueing_the_same_new_records_at_once_both_succeed(store):
    items = [NewException("deal", f"d{i}", "negative_amount", "amount below zero", "sales-ops") for i in range(40)]
    results = _at_once(2, lambda n: store.exceptions.raise_many(T, "won-deal-to-invoice", items))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(store.exceptions.list(T, status="open")) == 40
    assert sum(results) == 40  # each item is new to exactly one of the two runs


def test_two_runs_starting_the_audit_chain_at_once_both_succeed(store):
    results = _at_once(2, lambda n: store.audit.append(T, [NewAuditEvent("exception.raised", deal_id=f"d{n}")]))
    assert results == [1, 1]
    assert store.audit.verify(T) is None and len(store.audit.search(T)) == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_starting_on_a_fresh_database_at_once_both_migrate_it(backend, tmp_path):
    """Two processes (Alembic is not thread-safe, and workers are processes) open the store at once."""
    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'fresh.db'}", None
    else:
        base = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"ll_fresh_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url, drop = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", (admin, schema)
    start = tmp_path / "go"
    script = (f"import os, time\nfrom ledgerlink.store import open_store\n"
              f"while not os.path.exists({str(start)!r}): time.sleep(0.005)\n"
              f"print(open_store({url!r}).links.count('acme', 'invoice'))")
    try:
        workers = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for _ in range(2)]
        time.sleep(1.5)  # both have imported and wait for the start signal
        start.touch()
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], [err[-1500:] for _, err in outputs]
        assert [out.strip() for out, _ in outputs] == ["0", "0"]
    finally:
        if drop:
            admin, schema = drop
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_threads_of_one_process_opening_stores_at_once_all_start(tmp_path):
    """Alembic keeps the running migration in module globals; a worker opening stores from several
    threads (or a test running two tenants side by side) must not mix them up."""
    from ledgerlink.store import open_store

    stores = _at_once(4, lambda n: open_store(f"sqlite:///{tmp_path / f'store-{n}.db'}"))
    assert not [s for s in stores if isinstance(s, Exception)], stores
    for store in stores:
        assert store.links.count(T, "invoice") == 0
        store.dispose()
