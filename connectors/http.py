"""The one HTTP client every connector uses: auth, retries, rate limits, typed errors, counters.

Retry policy is data (`RetryPolicy`) evaluated by tenacity, as in dlt's `retry.py`. The rule that
shapes everything else is the architecture's: an uncertain write is settled by lookup, never by a
blind re-send. So a request is retried only when repeating it is provably harmless:

* reads (GET, or a POST the caller marks `read=True`, such as a HubSpot search) retry on 429, the
  retryable 5xx statuses and every network error;
* writes retry only when the server provably did not process them: 429, a connection that never
  opened (`ConnectError`, `ConnectTimeout`, `PoolTimeout`), a 401 answered before processing
  (after an OAuth refresh), and a 503 the caller declares safe. Anything else after the bytes left
  (5xx, read timeout, dropped connection, an unreadable 2xx) raises `UncertainWrite`.

Logs carry method, path template, status, duration and attempt; never header values, bodies or
query values (Xero `where` clauses hold names and e-mail addresses) — only the query's keys.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any

from connectors.errors import (BadResponse, Forbidden, NetworkError, NotFound, RateLimited,
                               ServerError, Unauthorized, UncertainWrite, ValidationRejected,
                               VendorError, correlation_id, plain_message, vendor_message)
from connectors.oauth import Auth
from connectors.ratelimit import REGISTRY, LimiterRegistry, RateLimiter, RateLimits
from connectors.tls import verified_context

log = logging.getLogger("ledgerlink.http")

# Raised before any byte of the request reached the server: safe to repeat even for writes.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HeaderPacer = Callable[[httpx.Headers, RateLimiter], None]


# ---------------------------------------------------------------------------------------------
# policy
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to retry. `max_total_wait` bounds the sum of sleeps of one request."""

    max_attempts: int = 6
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    backoff_base: float = 0.5  # seconds; attempt n waits uniform(0, base * 2**(n-1)) capped
    backoff_max: float = 30.0  # cap of one backoff sleep
    max_total_wait: float = 120.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date).

    Zero, negative or unparsable values mean "no hint": the caller falls back to its backoff,
    because a server that says "retry after 0" right after a 429 would otherwise be hammered.
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds <= 0:  # NaN or no wait
        return None
    return seconds


class WaitRetryAfterOrBackoff:
    """tenacity wait: the server's Retry-After when it gave one, else exponential full jitter."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        if hint:
            return float(hint)
        ceiling = min(self.policy.backoff_max,
                      self.policy.backoff_base * 2 ** (state.attempt_number - 1))
        return self.rng.uniform(0, ceiling)


class StopAfterTotalWait:
    """tenacity stop: give up rather than let the sum of sleeps pass the policy's bound."""

    def __init__(self, max_total_wait: float) -> None:
        self.max_total_wait = max_total_wait

    def __call__(self, state: RetryCallState) -> bool:
        return state.idle_for + (state.upcoming_sleep or 0.0) > self.max_total_wait


# ---------------------------------------------------------------------------------------------
# exact JSON
def loads_exact(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as Decimal: money never passes through float."""
    return json.loads(text, parse_float=Decimal)


def dumps_exact(value: Any) -> str:
    """Serialise to JSON, writing Decimals as plain JSON numbers with exactly their digits.

    `json.dumps` cannot write a Decimal as a number (only via float, which rounds), so this small
    encoder writes the number's own text (`format(d, "f")`: no exponent, no float round-trip).
    Floats are refused outright so none sneaks into a vendor body.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send non-finite number {value!r}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not sent to vendors; use Decimal")
    if value is None or isinstance(value, (bool, int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps_exact(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps_exact(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


# ---------------------------------------------------------------------------------------------
# redaction and counters
def redact(text: str, secrets: Collection[str | None]) -> str:
    """Replace every occurrence of each secret (4+ characters) in `text` with `[REDACTED]`."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return text


_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-fA-F-]{32,36})$")


def path_template(path: str) -> str:
    """`/Invoices/3f2a…` → `/Invoices/{id}`: logs and counters group by endpoint, not record."""
    return "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))


class HttpStats:
    """Counters of one client; `snapshot()` gives the plain dict the flows report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = self.retries = self.rate_limited = self.server_errors = 0
        self.network_errors = self.uncertain_writes = self.token_refreshes = 0
        self.latency_s = 0.0
        self.limiter_wait_s = 0.0
        self.per_endpoint: Counter[str] = Counter()

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def call(self, endpoint: str, latency_s: float) -> None:
        with self._lock:
            self.calls += 1
            self.latency_s += latency_s
            self.per_endpoint[endpoint] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": self.calls, "retries": self.retries,
                    "rate_limited": self.rate_limited, "server_errors": self.server_errors,
                    "network_errors": self.network_errors,
                    "uncertain_writes": self.uncertain_writes,
                    "token_refreshes": self.token_refreshes,
                    "latency_total_s": round(self.latency_s, 6),
                    "limiter_wait_s": round(self.limiter_wait_s, 6),
                    "per_endpoint": dict(self.per_endpoint)}


# ---------------------------------------------------------------------------------------------
# the client
@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any  # parsed JSON (Decimal for non-integers) or None for an empty body
    headers: httpx.Headers


@dataclass
class _Call:
    method: str
    path: str
    template: str
    params: Mapping[str, Any] | None
    content: bytes | None
    headers: dict[str, str]
    read: bool
    safe_503: bool
    idempotency_key: str | None
    bucket: str
    ok_statuses: Collection[int]
    endpoint: str = field(init=False)

    def __post_init__(self) -> None:
        self.endpoint = f"{self.method} {self.template}"


class VendorHttpClient:
    """Sync, keep-alive HTTP client for one vendor and one tenant."""

    def __init__(self, vendor: str, base_url: str, *, tenant: str, auth: Auth,
                 limits: Mapping[str, RateLimits] | None = None,
                 retry: RetryPolicy = RetryPolicy(),
                 default_headers: Mapping[str, str] | None = None,
                 pacer: HeaderPacer | None = None,
                 timeout: httpx.Timeout | float = httpx.Timeout(30.0, connect=10.0),
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None,
                 registry: LimiterRegistry = REGISTRY) -> None:
        self.vendor = vendor
        self.tenant = tenant
        self.auth = auth
        self.retry = retry
        self.pacer = pacer
        self.stats = HttpStats()
        self._sleep = sleep
        self._wait = WaitRetryAfterOrBackoff(retry, rng)
        self._limiters = {bucket: registry.get(vendor, tenant, bucket, budget)
                          for bucket, budget in (limits or {}).items()}
        self._client = httpx.Client(base_url=base_url, timeout=timeout, transport=transport,
                                    verify=verified_context(), headers=dict(default_headers or {}))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "VendorHttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def limiter(self, bucket: str = "default") -> RateLimiter | None:
        return self._limiters.get(bucket)

    def wrap_limiters(self, wrap: Callable[[str, RateLimiter], Any]) -> None:
        """Replace each bucket's limiter by `wrap(bucket, limiter)` (e.g. connectors.shared_limits)."""
        self._limiters = {bucket: wrap(bucket, limiter) for bucket, limiter in self._limiters.items()}

    # -- public verbs --------------------------------------------------------------------------
    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Reply:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Reply:
        return self.request("PUT", path, **kw)

    def request(self, method: str, path: str, *, template: str | None = None,
                params: Mapping[str, Any] | None = None, json_body: Any = None,
                headers: Mapping[str, str] | None = None, read: bool | None = None,
                safe_503: bool = False, idempotency_key: str | None = None,
                bucket: str = "default",
                ok_statuses: Collection[int] = (200, 201, 202, 204, 207)) -> Reply:
        """Send one logical request, retrying as the policy and the method allow.

        `read=True` declares a non-GET request free of side effects (search, batch read, an
        idempotent batch update). `safe_503` declares a write safe to repeat after a 503.
        """
        method = method.upper()
        call_headers = dict(headers or {})
        content = None
        if json_body is not None:
            content = dumps_exact(json_body).encode("utf-8")
            call_headers["Content-Type"] = "application/json"
        call_headers.setdefault("Accept", "application/json")
        if idempotency_key:
            call_headers["Idempotency-Key"] = idempotency_key
        call = _Call(method, path, template or path_template(path), params, content,
                     call_headers, method in READ_METHODS if read is None else read,
                     safe_503, idempotency_key, bucket, ok_statuses)
        retrying = Retrying(
            stop=stop_any(stop_after_attempt(self.retry.max_attempts),
                          StopAfterTotalWait(self.retry.max_total_wait)),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, VendorError) and e.retryable),
            sleep=self._sleep, reraise=True, before_sleep=self._before_sleep(call))
        for attempt in retrying:
            with attempt:
                return self._attempt(call, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- internals -----------------------------------------------------------------------------
    def _before_sleep(self, call: _Call) -> Callable[[RetryCallState], None]:
        def note(state: RetryCallState) -> None:
            self.stats.add(retries=1)
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s %s retry %d in %.2fs after %s", call.method, call.template,
                        state.attempt_number, state.upcoming_sleep or 0.0, type(exc).__name__,
                        extra=self._extra(call, attempt=state.attempt_number,
                                          error=type(exc).__name__,
                                          status=getattr(exc, "status", None)))
        return note

    def _extra(self, call: _Call, **fields: Any) -> dict[str, Any]:
        return {"vendor": self.vendor, "tenant": self.tenant, "method": call.method,
                "path_template": call.template, "query_keys": sorted((call.params or {}).keys()),
                **fields}

    def _attempt(self, call: _Call, attempt: int) -> Reply:
        response, sent = self._send(call, attempt)
        if response.status_code == 401:
            before = getattr(self.auth, "refreshes", 0)
            if self.auth.after_unauthorized(sent):  # a 401 is answered before processing
                self.stats.add(token_refreshes=getattr(self.auth, "refreshes", 0) - before)
                response, _ = self._send(call, attempt)
        return self._interpret(call, response, attempt)

    def _send(self, call: _Call, attempt: int) -> tuple[httpx.Response, dict[str, str]]:
        before = getattr(self.auth, "refreshes", 0)
        auth_headers = self.auth.headers()
        self.stats.add(token_refreshes=getattr(self.auth, "refreshes", 0) - before)
        request = self._client.build_request(call.method, call.path, params=call.params,
                                             content=call.content,
                                             headers={**call.headers, **auth_headers})
        limiter = self._limiters.get(call.bucket)
        started = time.monotonic()
        try:
            if limiter is None:
                response = self._client.send(request)
            else:
                with limiter.slot(max_wait=self.retry.max_total_wait) as waited:
                    self.stats.add(limiter_wait_s=waited)
                    started = time.monotonic()
                    response = self._client.send(request)
        except httpx.TransportError as exc:
            self.stats.call(call.endpoint, time.monotonic() - started)
            self.stats.add(network_errors=1)
            raise self._network_error(call, exc, attempt) from exc
        elapsed = time.monotonic() - started
        self.stats.call(call.endpoint, elapsed)
        if limiter is not None and self.pacer is not None:
            self.pacer(response.headers, limiter)
        level = (logging.DEBUG if response.status_code < 400 else
                 logging.INFO if response.status_code == 401 else logging.WARNING)
        log.log(level, "%s %s -> %d in %.0fms (attempt %d)", call.method, call.template,
                response.status_code, elapsed * 1000, attempt,
                extra=self._extra(call, status=response.status_code,
                                  duration_ms=round(elapsed * 1000, 1), attempt=attempt))
        return response, auth_headers

    def _network_error(self, call: _Call, exc: httpx.TransportError, attempt: int) -> VendorError:
        kind = type(exc).__name__
        log.warning("%s %s -> %s (attempt %d)", call.method, call.template, kind, attempt,
                    extra=self._extra(call, error=kind, attempt=attempt))
        if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
            return NetworkError(self.vendor, f"{kind}: request could not be sent",
                                method=call.method, path=call.template)  # our bug: not retried
        if not call.read and not isinstance(exc, NOT_SENT_ERRORS):
            return self._uncertain(call, kind)
        retryable = isinstance(exc, (httpx.TimeoutException, httpx.NetworkError,
                                     httpx.RemoteProtocolError))
        return NetworkError(self.vendor, f"{kind} talking to {self.vendor}", method=call.method,
                            path=call.template, retryable=retryable)

    def _uncertain(self, call: _Call, cause: str, status: int | None = None,
                   message: str | None = None, correlation_id: str | None = None) -> UncertainWrite:
        self.stats.add(uncertain_writes=1)
        log.error("%s %s uncertain write (%s)", call.method, call.template, cause,
                  extra=self._extra(call, error="UncertainWrite", cause=cause, status=status))
        return UncertainWrite(self.vendor, message, status=status, method=call.method,
                              path=call.template, idempotency_key=call.idempotency_key,
                              cause=cause, correlation_id=correlation_id)

    def _parse(self, response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        kind = response.headers.get("Content-Type", "")
        if "json" not in kind.lower():
            raise ValueError(f"content type {kind or 'missing'}")
        return loads_exact(response.content)

    def _interpret(self, call: _Call, response: httpx.Response, attempt: int) -> Reply:
        status = response.status_code
        if status in call.ok_statuses and status < 400:
            try:
                return Reply(status, self._parse(response), response.headers)
            except ValueError as exc:
                if not call.read:
                    raise self._uncertain(call, "unreadable response", status) from None
                raise BadResponse(self.vendor, f"unreadable response ({exc})", status=status,
                                  method=call.method, path=call.template,
                                  raw=response.text, content_type=response.headers.get(
                                      "Content-Type")) from None
        try:
            body = self._parse(response)
        except ValueError:
            body = None
        text = plain_message(response.headers.get("Content-Type"), response.text) if body is None else None
        message = redact(vendor_message(body) or text or "", self.auth.secrets()) or None
        cid = correlation_id(response.headers, body)
        common = dict(status=status, correlation_id=cid, method=call.method,
                      path=call.template, detail=body)
        if status == 429:
            self.stats.add(rate_limited=1)
            hint = parse_retry_after(response.headers.get("Retry-After"))
            limiter = self._limiters.get(call.bucket)
            if hint and limiter is not None:
                limiter.pause(hint)
            raise RateLimited(self.vendor, message, retry_after=hint,
                              problem=response.headers.get("X-Rate-Limit-Problem"), **common)
        if status >= 500:
            self.stats.add(server_errors=1)
            if not call.read and not (status == 503 and call.safe_503):
                raise self._uncertain(call, f"HTTP {status}", status, message, cid)
            raise ServerError(self.vendor, message,
                              retryable=status in self.retry.retry_statuses, **common)
        error = {401: Unauthorized, 403: Forbidden, 404: NotFound}.get(
            status, ValidationRejected if status in (400, 409, 422) else VendorError)
        raise error(self.vendor, message, **common)
