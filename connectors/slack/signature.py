"""Is this request really from Slack, recent, and new? Checked before any payload is read.

Slack signs each request with the app's signing secret (v0: `v0=` + hex HMAC-SHA256 of
`v0:{timestamp}:{body}`). A valid signature alone still lets anyone who captured a request send it
again within Slack's 5-minute window, so `ReplayGuard` remembers what it has accepted until the
request's timestamp leaves that window, and refuses an exact repeat.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Mapping
from typing import Literal

from slack_sdk.signature import Clock, SignatureVerifier

TOLERANCE_SECONDS = 300
TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"

Reason = Literal["missing", "malformed", "stale", "forged", "replayed"]


class SlackSignatureError(Exception):
    """A request that must be refused; `reason` is one word for the log and the 401 text."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def signature_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(timestamp, signature) from any header mapping, whatever the header names' case."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    return lowered.get(TIMESTAMP_HEADER), lowered.get(SIGNATURE_HEADER)


def verify(signing_secret: str, headers: Mapping[str, str], raw_body: bytes,
           now: float | None = None) -> None:
    """Raise `SlackSignatureError` unless the request is signed with the secret within 5 minutes.

    `now` (Unix seconds) is for tests; the order of checks means a stale request is reported as
    stale even when its signature is also wrong, which is what a clock problem looks like.
    """
    timestamp, signature = signature_headers(headers)
    if not timestamp or not signature:
        raise SlackSignatureError("missing")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SlackSignatureError("malformed") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > TOLERANCE_SECONDS:
        raise SlackSignatureError("stale")
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(current))
    try:
        valid = verifier.is_valid(body=raw_body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:
        valid = False
    if not valid:
        raise SlackSignatureError("forged")


class ReplayGuard:
    """Remembers accepted (timestamp, signature) pairs until they could no longer pass `verify`.

    Thread-safe. Memory is bounded by `max_entries`: past it the oldest entries are dropped, which
    only matters above ~`max_entries / 300` accepted requests a second, far beyond an approvals app.
    """

    def __init__(self, window_seconds: int = TOLERANCE_SECONDS, max_entries: int = 10_000) -> None:
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], float] = {}
        self._expiries: list[tuple[float, tuple[str, str]]] = []

    def check(self, timestamp: str, signature: str, now: float | None = None) -> None:
        """Raise `SlackSignatureError("replayed")` for a pair already seen; else remember it.

        Call only after `verify` passed, so forged requests cannot fill the memory.
        """
        current = time.time() if now is None else now
        key = (timestamp, signature)
        with self._lock:
            self._forget_expired(current)
            if key in self._seen:
                raise SlackSignatureError("replayed")
            try:
                expires = int(timestamp) + self.window_seconds
            except ValueError:
                expires = current + self.window_seconds
            self._seen[key] = expires
            heapq.heappush(self._expiries, (expires, key))
            while len(self._seen) > self.max_entries:
                _, oldest = heapq.heappop(self._expiries)
                self._seen.pop(oldest, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, key = heapq.heappop(self._expiries)
            self._seen.pop(key, None)
