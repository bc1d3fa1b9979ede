"""Task retry policy and the write-intent lease, in one place (tests shorten them via environment).

Task retries are the outer safety net; the HTTP layer already retries transient vendor errors with
backoff, so two task retries a few seconds apart are enough.
"""

from __future__ import annotations

import os

TASK_RETRIES = int(os.environ.get("LEDGERLINK_TASK_RETRIES", "2"))
TASK_RETRY_DELAY_S = float(os.environ.get("LEDGERLINK_TASK_RETRY_DELAY_SECONDS", "5"))


def intent_lease_seconds() -> float:
    """How long an unsettled write of a run that still looks alive is left to that run.

    A killed process leaves its Prefect run 'Running' until something notices; after the lease its
    writes are settled by lookup like any crashed run's.
    """
    return float(os.environ.get("LEDGERLINK_INTENT_LEASE_SECONDS", "900"))
