"""Gate: the handoff's expectations suite validates the whole batch in one call; failing rows go to
the exception queue with every expectation they failed, and the rest continue."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.context import HandoffContext
from tasks.record import deal_exception
from tasks.transform import Candidates


def gate_parameters(ctx: HandoffContext) -> dict:
    return {"tenant_currencies": list(ctx.tenant.currencies)}


@task(name="gate-deals", cache_policy=NO_CACHE)
def gate_candidates(ctx: HandoffContext, candidates: Candidates) -> list[str]:
    """Returns the deal ids that passed; queues the others (owner from the failed expectation)."""
    if not candidates.rows:
        return []
    result = ctx.gate.validate(candidates.rows, parameters=gate_parameters(ctx))
    for deal_id, failures in result.failed.items():
        first = failures[0]
        detail = "; ".join(failure.message for failure in failures)
        candidates.problems.append(deal_exception(
            ctx, deal_id, first.reason_code, detail, candidates.checksums.get(deal_id), owner=first.owner))
    for deal_id, warnings in result.warnings.items():
        candidates.warnings[deal_id] = [warning.message for warning in warnings]
    ctx.counts["gate_passed"] += len(result.passed)
    ctx.counts["gate_failed"] += len(result.failed)
    return list(result.passed)
