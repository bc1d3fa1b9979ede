"""The Prefect side of approvals: one run per review item, started, resumed and cancelled here.

Deployed (the tenant's `review-approval/<tenant>` deployment exists, as `deployments/serve.py`
makes): each item becomes a flow run of that deployment, which posts to Slack and then *suspends*,
so a pending approval holds no process however long finance takes. Local ad-hoc runs (no
deployment, e.g. `ledgerlink run` against a temporary Prefect) cannot suspend: each approval run
then pauses in a thread of the current process, and `wait_for_local_approvals` lets the CLI wait.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

from ledgerlink.store.tables import ApprovalRequest

log = logging.getLogger(__name__)

APPROVAL_FLOW = "review-approval"
_local_runs: list[threading.Thread] = []


def approval_deployment(tenant: str) -> str:
    return f"{APPROVAL_FLOW}/{APPROVAL_FLOW}-{tenant}"


def start_approval_runs(tenant: str, requests: list[ApprovalRequest], store) -> str:
    """Start one approval run per request; returns "deployed" or "local"."""
    if not requests:
        return "none"
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        for request in requests:
            run = run_deployment(approval_deployment(tenant), parameters={"tenant": tenant, "request_id": request.id},
                                 timeout=0, as_subflow=False, tags=[f"tenant:{tenant}", "approval"])
            store.approvals.update(request.id, flow_run_id=str(run.id))
        return "deployed"
    except ObjectNotFound:
        pass
    from flows.review_approval import review_approval

    for request in requests:
        thread = threading.Thread(target=_run_locally, args=(review_approval, tenant, request.id),
                                  name=f"approval-{request.id[:8]}", daemon=True)
        thread.start()
        _local_runs.append(thread)
    return "local"


def _run_locally(flow, tenant: str, request_id: str) -> None:
    try:
        flow(tenant=tenant, request_id=request_id)
    except Exception:  # the run's own state and logs carry the detail
        log.warning("local approval run for request %s ended with an error", request_id)


def wait_for_local_approvals(timeout: float | None = None) -> int:
    """Wait for this process's paused approval runs; returns how many are still waiting."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for thread in list(_local_runs):
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    _local_runs[:] = [thread for thread in _local_runs if thread.is_alive()]
    return len(_local_runs)


def resume_approval_run(request: ApprovalRequest, run_input: dict, patience: float = 10.0) -> str:
    """Hand the decision to the waiting run. A run that has not paused yet reads the decision from
    the store when it gets there; one about to pause is given `patience` seconds to do so."""
    if not request.flow_run_id:
        return "no-run"
    from prefect.client.orchestration import get_client
    from prefect.exceptions import FlowPauseTimeout, NotPausedError, ObjectNotFound
    from prefect.flow_runs import resume_flow_run

    run_id = UUID(request.flow_run_id)
    deadline = time.monotonic() + patience
    while True:
        try:
            resume_flow_run(run_id, run_input=run_input)
            return "resumed"
        except NotPausedError:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state
            if state is None or not state.is_running() or time.monotonic() > deadline:
                return "not-paused"  # scheduled: it will read the decision; final: the next handoff run applies it
            time.sleep(0.5)
        except (FlowPauseTimeout, ObjectNotFound, RuntimeError) as error:
            log.warning("could not resume approval run %s: %s", run_id, type(error).__name__)
            return "unresumable"


def cancel_approval_run(request: ApprovalRequest, message: str) -> None:
    """A waiting run whose request closed without a decision (timed out, superseded) is cancelled."""
    if not request.flow_run_id:
        return
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    try:
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(UUID(request.flow_run_id)).state
            if state is not None and (state.is_paused() or state.is_scheduled()):
                client.set_flow_run_state(UUID(request.flow_run_id), Cancelled(message=message), force=True)
    except Exception as error:  # the request is closed either way; the run then fails at its own timeout
        log.warning("could not cancel approval run %s: %s", request.flow_run_id, type(error).__name__)
