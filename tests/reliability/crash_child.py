"""The child process of a crash or concurrency test: one scheduled run of a tenant's handoffs,
in its own process, as a worker would run them — and nothing of the parent's but its environment.

It runs contacts → won deals → payment status, telling the parent after each handoff and waiting
for its answer (so the parent can let the customers pay before payment status, or look at a
clean world between handoffs). It counts its store transactions that wrote; when told to, it
SIGKILLs itself right after the n-th one is committed. Children are forked from a server that
imported Prefect, the flows and Great Expectations once (`start_method`), so a child costs its
run, not 4 s of imports.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

HANDOFFS = ("contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm")
HERE = Path(__file__).resolve().parent


def start_method():  # noqa: ANN201 - multiprocessing context
    """The forkserver context children come from, with the heavy work of crash_preload done once.

    The fork server is started by the first child with this process's environment; it does not
    receive sys.path, so PYTHONPATH names this folder for it."""
    import multiprocessing

    paths = [str(HERE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["crash_preload"])
    return context


def run(env: dict[str, str], tenant: str, conn, log_path: str, handoffs: tuple[str, ...] = HANDOFFS,
        kill_at_commit: tuple[int, str | None, str | None] | None = None) -> None:
    """Entry point of the child (multiprocessing target). It says ("ready", pid), ("start", handoff)
    and ("after", handoff, counts) and waits for the parent's reply to each; then ("done", write
    commits). `kill_at_commit` = (n, handoff or None, table or None): die after that commit."""
    _log_to(log_path)
    os.environ.update(env)
    commits = _count_write_commits(kill_at_commit)
    _ask(conn, "ready", os.getpid())
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.linked_update import payment_to_crm
    from flows.won_deal_to_invoice import won_deal_to_invoice
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    flows = {"contact-to-accounting-contact": contact_to_accounting_contact,
             "won-deal-to-invoice": won_deal_to_invoice, "payment-to-crm": payment_to_crm}
    with temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"], PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        for handoff in handoffs:
            _ask(conn, "start", handoff)
            commits["handoff"] = handoff
            started = time.monotonic()
            report = flows[handoff](tenant=tenant)
            if report["status"] != "completed":
                raise RuntimeError(f"{handoff} ended {report['status']}")
            print(f"{handoff} in {time.monotonic() - started:.2f}s: {report['counts']}", flush=True)
            commits["handoff"] = None
            _ask(conn, "after", handoff, report["counts"])
    conn.send(("done", commits["commits"]))


def _ask(conn, *message) -> None:
    conn.send(message)
    conn.recv()


def _log_to(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _count_write_commits(kill_at: tuple[int, str | None, str | None] | None) -> dict:
    """Count committed store transactions that wrote; SIGKILL this process right after the one
    `kill_at` names (the n-th, while that handoff runs, writing that table)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    state = {"commits": 0, "handoff": None, "matching": 0, "die": False}
    nth, handoff, table = kill_at or (None, None, None)

    @event.listens_for(Engine, "before_cursor_execute")
    def _note(connection, cursor, statement, *args) -> None:
        words = statement.split(None, 3)
        if words and words[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            target = words[2] if words[0].upper() in ("INSERT", "DELETE") and len(words) > 2 else words[1]
            connection.info.setdefault("ll_wrote", set()).add(target.strip('"').lower())

    @event.listens_for(Engine, "commit")
    def _count(connection) -> None:  # before the database commits: decide; die after it
        wrote = connection.info.pop("ll_wrote", None)
        if not wrote:
            return
        state["commits"] += 1
        if nth and (handoff is None or handoff == state["handoff"]) and (table is None or table in wrote):
            state["matching"] += 1
            state["die"] = state["matching"] == nth

    @event.listens_for(Engine, "rollback")
    def _forget(connection) -> None:
        connection.info.pop("ll_wrote", None)

    @event.listens_for(Session, "after_commit")
    def _die(session) -> None:
        if state["die"]:
            os.kill(os.getpid(), signal.SIGKILL)

    return state
