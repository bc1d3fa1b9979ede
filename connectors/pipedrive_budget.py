"""Pipedrive's daily token budget, as the connector sees it: what each call costs and what is left.

Pipedrive counts a company's day in tokens, and every operation costs the `x-token-cost` its
OpenAPI operation declares (a list read 10, a PATCH 5). Pipedrive has no batch writes, so a
write-back is one PATCH per record; a batch that runs out of tokens halfway leaves half the deals
written and the rest of the day's budget gone. So before its PATCHes, `batch_update` asks
`DailyBudget.afford` and, when the answer is no, raises `RateLimited` with nothing written.

The costs are a small committed table rather than the spec file read at run time: the connector runs
where `../shared/vendor-specs` is not deployed (it is reference data, not a package), and a table of
the dozen operations ledgerlink calls is easy to review. `tests/connectors/test_pipedrive_token_costs.py`
checks every entry against the official spec, so a cost Pipedrive changes fails the tests.

What is left comes from the `x-daily-requests-left` header of every answer (other clients of the
company spend the same budget, so the header, not our own count, is the truth). Pipedrive does not
say when the budget renews; the earliest moment worth trying again is taken as the next midnight UTC.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import httpx

from connectors.errors import RateLimited

# (method, path template) → x-token-cost, for the operations `connectors.pipedrive` calls.
TOKEN_COSTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v2/deals"): 10,
    ("GET", "/api/v2/organizations"): 10,
    ("GET", "/api/v2/persons"): 10,
    ("GET", "/api/v2/products"): 10,
    ("GET", "/api/v2/deals/products"): 10,
    ("GET", "/api/v2/dealFields"): 10,
    ("GET", "/api/v2/organizationFields"): 10,
    ("GET", "/api/v2/personFields"): 10,
    ("GET", "/api/v2/productFields"): 10,
    ("PATCH", "/api/v2/deals/{id}"): 5,
    ("PATCH", "/api/v2/organizations/{id}"): 5,
    ("PATCH", "/api/v2/persons/{id}"): 5,
}


def token_cost(method: str, template: str) -> int:
    """The tokens one call costs; KeyError for an operation the table does not know (add it, and
    the spec test checks it)."""
    return TOKEN_COSTS[(method.upper(), template)]


def next_midnight_utc(now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class DailyBudget(httpx.BaseTransport):
    """A transport that reads `x-daily-requests-left` off every answer; `left` is None until the
    first answer has come."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.left: int | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        value = response.headers.get("x-daily-requests-left", "").strip()
        if value.lstrip("-").isdigit():
            with self._lock:
                self.left = int(value)
        return response

    def close(self) -> None:
        self.inner.close()

    def afford(self, tokens: int, what: str) -> None:
        """Raise `RateLimited` (retry at the next renewal) when `tokens` exceed what is left today."""
        with self._lock:
            left = self.left
        if left is None or tokens <= left:
            return
        wait = (next_midnight_utc() - datetime.now(timezone.utc)).total_seconds()
        raise RateLimited("pipedrive", f"{what} needs {tokens} tokens and {left} are left of today's "
                                       f"budget; nothing was written", retry_after=max(wait, 1.0),
                          problem="daily")
