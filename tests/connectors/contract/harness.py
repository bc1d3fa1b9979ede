"""What the shared contract suite needs from one vendor: its sandbox, its connector, and a hand on
the vendor's side of the wire.

The suite (`crm_suite`, `accounting_suite`) is written once against these classes; a vendor joins by
writing one harness (about a hundred lines that know its sandbox) and one test line. Everything the
harness does on the vendor's side goes through the sandbox's own HTTP API, its `/_sandbox/` control
routes or its state object — never through the connector under test — so a connector bug cannot
hide itself by also being the test's way of looking.

Capabilities say which promises apply. A test whose capability a vendor lacks is skipped with the
harness's stated reason; a vendor that neither has a capability nor says why fails the test, so
nothing is ever passed silently.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.http import RetryPolicy
from connectors.oauth import InMemoryTokenStore, TokenSet
from connectors.ratelimit import REGISTRY, RateLimits

# Small, fast retries: the promises are about *whether* and *how often* a client retries; the
# production waits (seconds) would only make the suite slow.
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_base=0.05, backoff_max=0.2, max_total_wait=10.0)
TIME_SCALE = 20.0  # vendor seconds per real second while a test studies limits

CAPABILITIES = frozenset({
    "oauth_refresh",        # rotating OAuth refresh tokens (else a static token that a person revokes)
    "idempotency_key",      # writes carry a key the vendor deduplicates on
    "remaining_headers",    # answers say how much of the budget is left
    "skips_unchanged_writes",  # an update to values a record already holds sends nothing
    "token_budget",         # the daily budget is counted in per-operation token costs
    "payments",             # payments can be read by change time
})


@dataclass(frozen=True)
class Change:
    """One delivered (or expected) version of a record: its id and its change time (epoch ms)."""

    id: str
    at_ms: int


class VendorHarness:
    """One vendor's sandbox and connector, as the contract suite drives them."""

    vendor: str = "vendor"
    capabilities: frozenset[str] = frozenset()
    why_not: Mapping[str, str] = {}   # capability → why this vendor does not have it
    stamp_resolution_ms: int = 1      # the vendor's change times are whole multiples of this
    time_scale: float = TIME_SCALE    # time compression while a test studies limits

    def __init__(self) -> None:
        self.url = ""
        self._connectors: list[Any] = []
        self.http = httpx.Client(timeout=10)  # one client: building one costs ~50 ms (TLS context)

    # ---- lifecycle (vendor-specific) -------------------------------------------------------
    def start(self, *, tight: bool = False) -> None:
        """Start the sandbox seeded small, limits off; `tight`: tiny budgets for pacing tests."""
        raise NotImplementedError

    def _stop_sandbox(self) -> None:
        raise NotImplementedError

    def _build_connector(self, tenant: str, limits: Mapping[str, RateLimits] | None,
                         retry: RetryPolicy) -> Any:
        raise NotImplementedError

    def client_budget(self, time_scale: float) -> Mapping[str, RateLimits]:
        """The connector's configured budget for the tight sandbox, on the same compressed clock."""
        raise NotImplementedError

    # ---- lifecycle (shared) ----------------------------------------------------------------
    def stop(self) -> None:
        for connector in self._connectors:
            connector.close()
        self._connectors.clear()
        self.http.close()
        self._stop_sandbox()

    def connector(self, *, limits: Mapping[str, RateLimits] | None = None,
                  retry: RetryPolicy = FAST_RETRY) -> Any:
        """A fresh connector for a fresh tenant: its own rate budget, its own tokens."""
        REGISTRY.clear()
        made = self._build_connector(f"contract-{uuid.uuid4().hex[:8]}", limits, retry)
        self._connectors.append(made)
        return made

    def require(self, capability: str) -> None:
        """Skip the calling test, with the vendor's reason, when the promise does not apply."""
        assert capability in CAPABILITIES, f"unknown capability {capability!r}"
        if capability in self.capabilities:
            return
        reason = self.why_not.get(capability)
        if not reason:
            pytest.fail(f"{self.vendor} harness neither has {capability!r} nor says why not")
        pytest.skip(f"{self.vendor}: {reason}")

    # ---- the sandbox's control routes ------------------------------------------------------
    def control(self, method: str, path: str, payload: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=payload)
        assert response.status_code < 300, response.text
        return response.json()

    def fault(self, kind: str, path: str, method: str | None = None, **options: Any) -> None:
        self.control("POST", "faults", {"kind": kind, "path": path, "method": method, **options})

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def reset_stats(self) -> None:
        self.control("POST", "stats/reset")

    def set_limits(self, enabled: bool, time_scale: float = 1.0) -> None:
        self.control("POST", "limits", {"enabled": enabled, "time_scale": time_scale})

    def calls_to(self, prefix: str, method: str | None = None) -> int:
        """Calls the sandbox counted on routes under `prefix` (its own count, not the client's)."""
        counted = 0
        for key, n in self.stats()["calls"].items():
            verb, template = key.split(" ", 1)
            if (method is None or verb == method) and _covers(template, prefix):
                counted += n
        return counted

    def reset(self) -> None:
        """Between tests: no faults, limits off, counters at zero."""
        self.clear_faults()
        self.set_limits(False, 1.0)
        self.reset_stats()

    # ---- the vendor's clock ----------------------------------------------------------------
    def next_stamp_boundary(self, after_ms: int) -> None:
        """Wait until a change made now gets a change time later than `after_ms`: vendors that
        stamp whole seconds give a change made in the same second the same time."""
        if self.stamp_resolution_ms <= 1:
            return
        boundary = (after_ms // self.stamp_resolution_ms + 1) * self.stamp_resolution_ms
        delay = boundary / 1000 - time.time()
        if delay > 0:
            time.sleep(delay + 0.01)

    # ---- errors ----------------------------------------------------------------------------
    read_path: str = "/"   # the path prefix of the read `read()` makes (faults are aimed at it)

    def read(self, connector: Any) -> Any:
        """One small read through the connector that lands on `read_path`."""
        raise NotImplementedError

    def error_message(self, status: int) -> str:
        """The message this sandbox puts in the error body of an injected `status`, as the
        connector should report it in `vendor_message`."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Every credential the connector holds (none may appear in an error's text)."""
        raise NotImplementedError


class RecordingTokenStore(InMemoryTokenStore):
    """Token store that notes, at every save, how many API calls the sandbox had counted: a new
    token set saved before the first call that uses it shows the count of the calls before."""

    def __init__(self, api_calls: Any) -> None:
        super().__init__()
        self._api_calls = api_calls
        self.saves: list[tuple[str, int]] = []  # (refresh token, API calls counted at the save)
        self._secrets: list[str] = []

    def save(self, tenant: str, vendor: str, tokens: TokenSet) -> None:
        super().save(tenant, vendor, tokens)
        self.saves.append((tokens.refresh_token.get_secret_value(), self._api_calls()))
        self._secrets += [tokens.access_token.get_secret_value(), tokens.refresh_token.get_secret_value()]

    def secrets(self) -> list[str]:
        return list(self._secrets)


def _covers(template: str, prefix: str) -> bool:
    """Does a route template (`/api/v2/deals/{id}`, as the sandbox counts calls) match paths
    under `prefix` (as fault rules aim)?"""
    wanted, route = prefix.rstrip("/").split("/"), template.split("/")
    return len(wanted) <= len(route) and all(
        part.startswith("{") or part == want for part, want in zip(route, wanted))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delivered_changes(pages: Iterator[list[Any]]) -> list[Any]:
    return [record for page in pages for record in page]


class CrmHarness(VendorHarness):
    """A CRM's vendor side: records a salesperson creates and edits, and what is stored."""

    object_types: tuple[str, ...] = ("deals", "companies")

    def create(self, object_type: str, count: int) -> list[str]:
        """Create `count` records as a CRM user would; their ids."""
        raise NotImplementedError

    def touch(self, object_type: str, ids: list[str]) -> None:
        """Edit the records as a CRM user would, so their change time moves."""
        raise NotImplementedError

    def changes_since(self, object_type: str, since_ms: int) -> dict[str, int]:
        """Every live record changed at or after `since_ms` → its change time, from the state."""
        raise NotImplementedError

    def value(self, object_type: str, record_id: str, name: str) -> Any:
        """A property's stored value, read from the sandbox's state."""
        raise NotImplementedError

    def writable(self, object_type: str) -> str:
        """A text property ledgerlink writes back (e.g. the invoice number on a deal); every
        sandbox CRM defines ledgerlink's custom fields under the same names."""
        return "ledgerlink_invoice_number" if object_type == "deals" else "ledgerlink_accounting_id"

    def invalid_value(self, object_type: str) -> tuple[str, str, str]:
        """(property, a value the vendor refuses, a word its message must contain): a number field
        given text, which every CRM refuses naming the field."""
        name = "ledgerlink_amount_due" if object_type == "deals" else "credit_limit"
        return name, "lots", name

    def unknown_id(self) -> str:
        return "999999999"

    def unknown_id_words(self) -> str:
        """Words the vendor's message for an unknown record id contains."""
        raise NotImplementedError

    def write_path(self, object_type: str) -> tuple[str, str]:
        """(method, path prefix) of the calls `batch_update` writes with."""
        raise NotImplementedError

    def revoke_token(self) -> None:
        """The account owner revokes the connector's token at the vendor."""
        raise NotImplementedError

    def restore_token(self) -> None:
        raise NotImplementedError

    def revoked_message(self) -> str:
        """The vendor's own words in the 401 body for a revoked token."""
        raise NotImplementedError

    def paced_call(self, connector: Any, ids: list[str]) -> None:
        """One ordinary (non-search) call through the connector, for pacing tests."""
        raise NotImplementedError

    def raw_call(self) -> int:
        """The same kind of call sent straight to the sandbox, not paced: its status."""
        raise NotImplementedError


class AccountingHarness(VendorHarness):
    """An accounting system's vendor side: books an accountant edits, and what is stored."""

    kinds: tuple[str, ...] = ("invoices", "contacts", "payments")

    def create(self, kind: str, count: int) -> list[str]:
        """Create `count` records of `kind` as an accountant would; their ids."""
        raise NotImplementedError

    def touch(self, kind: str, ids: list[str]) -> None:
        """Edit the records as an accountant would, so their change time moves."""
        raise NotImplementedError

    def changes_since(self, kind: str, since_ms: int) -> dict[str, int]:
        """Every record the connector's delta read covers, changed at or after `since_ms` → its
        change time as the vendor reports it, from the state."""
        raise NotImplementedError

    def count(self, kind: str) -> int:
        """How many contacts or invoices the sandbox holds."""
        raise NotImplementedError

    def customer(self) -> Any:
        """A `Party` that exists at the vendor (with its accounting id), to invoice."""
        raise NotImplementedError

    def invoice(self, customer: Any) -> Any:
        """A valid canonical `Invoice` for `customer`, with a fresh reference."""
        raise NotImplementedError

    def rejected_invoice(self, customer: Any) -> tuple[Any, str]:
        """(an `Invoice` this vendor refuses, a word its message must contain)."""
        raise NotImplementedError

    def party(self) -> Any:
        """A valid canonical `Party` with a fresh CRM id."""
        raise NotImplementedError

    def rejected_party(self) -> tuple[Any, str]:
        """(a `Party` this vendor refuses, a word its message must contain)."""
        raise NotImplementedError

    def write_path(self, kind: str) -> str:
        """The path prefix a create of `kind` lands on (faults are aimed at it)."""
        raise NotImplementedError

    def token_store(self, connector: Any) -> "RecordingTokenStore":
        raise NotImplementedError

    def expire_access_tokens(self) -> None:
        """Every access token the sandbox issued expires now (mid-run, as the clock would do)."""
        raise NotImplementedError

    def live_refresh_token(self) -> str:
        """The refresh token the sandbox would accept now (read from its state, not used)."""
        raise NotImplementedError

    def try_refresh(self, refresh_token: str) -> int:
        """Offer a refresh token to the sandbox's token endpoint: the HTTP status."""
        raise NotImplementedError

    def paced_call(self, connector: Any) -> None:
        raise NotImplementedError

    def raw_call(self) -> int:
        raise NotImplementedError
