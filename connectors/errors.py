"""Typed vendor errors, so callers decide by type and users read one line.

Every error a connector raises is a `VendorError`: a flow can tell "try later" (`RateLimited`),
"reconnect the app" (`Unauthorized`), "fix the data" (`ValidationRejected`) and "look the records up
before doing anything else" (`UncertainWrite`) apart without parsing text. `str(err)` is one readable
line that carries the vendor's own message; the structured fields (status, correlation id, path
template) are what the log and the support ticket need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_MESSAGE = 300
_MAX_RAW = 200


# -- reading vendor error bodies ----------------------------------------------------------------
def vendor_message(body: Any) -> str | None:
    """The vendor's own words from an error body (HubSpot `message`, Xero `Message`/`Detail` and
    per-element `ValidationErrors`, QuickBooks `Fault.Error[]`, OAuth `error_description`)."""
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    for key in ("message", "Message", "Detail", "detail", "error_description", "Title", "error"):
        if isinstance(body.get(key), str) and body[key]:
            parts.append(body[key])
            break
    for element in body.get("Elements") or []:
        for problem in (element or {}).get("ValidationErrors") or []:
            text = (problem or {}).get("Message")
            if text and text not in parts:
                parts.append(text)
    fault = body.get("Fault") or body.get("fault")  # QuickBooks: {"Fault": {"Error": [...]}}
    for error in (fault.get("Error") or fault.get("error") or []) if isinstance(fault, dict) else []:
        error = {k.lower(): v for k, v in (error or {}).items()}
        text = " — ".join(str(error[k]) for k in ("message", "detail") if error.get(k))
        if text and error.get("code"):
            text = f"{text} (code {error['code']})"
        if text and text not in parts:
            parts.append(text)
    return "; ".join(parts) or None


def plain_message(content_type: str | None, text: str, limit: int = 300) -> str | None:
    """A short one-line text/plain error body is the vendor's message too (Xero answers a 404
    with one line of text); HTML pages and long bodies are not messages."""
    text = text.strip() if (content_type or "").lower().startswith("text/plain") else ""
    return text if 0 < len(text) <= limit and "\n" not in text else None


def correlation_id(headers: Mapping[str, str], body: Any) -> str | None:
    """The id the vendor's support asks for: a response header, else the error body's id."""
    for name in ("X-HubSpot-Correlation-Id", "Xero-Correlation-Id", "X-Correlation-Id",
                 "X-Request-Id"):
        if headers.get(name):
            return headers[name]
    if isinstance(body, dict):
        for key in ("correlationId", "Id", "ErrorId"):
            if isinstance(body.get(key), str):
                return body[key]
    return None


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VendorError(Exception):
    """Base of every error a vendor call raises.

    `retryable` says whether the same request may be sent again later without risk; the HTTP layer
    sets it from the status and the request's method, because the same 503 is safe to retry for a
    read and unsafe for a write.
    """

    def __init__(
        self,
        vendor: str,
        vendor_message: str | None = None,
        *,
        status: int | None = None,
        correlation_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retryable: bool = False,
        detail: Any = None,
    ) -> None:
        self.vendor = vendor
        self.status = status
        self.vendor_message = _truncate(vendor_message, _MAX_MESSAGE) if vendor_message else None
        self.correlation_id = correlation_id
        self.method = method
        self.path = path
        self.retryable = retryable
        self.detail = detail  # the parsed error body, for the caller's own mapping; never logged
        super().__init__(self._line())

    def _kind(self) -> str:
        return type(self).__name__

    def _line(self) -> str:
        where = f" on {self.method} {self.path}" if self.method and self.path else ""
        status = f" (HTTP {self.status})" if self.status else ""
        message = f": {self.vendor_message}" if self.vendor_message else ""
        ref = f" [ref {self.correlation_id}]" if self.correlation_id else ""
        return f"{self.vendor} {self._kind()}{status}{where}{message}{ref}"

    def __str__(self) -> str:
        return self._line()


class RateLimited(VendorError):
    """The vendor's budget is spent; `retry_after` (seconds) is the server's hint, if it gave one."""

    def __init__(self, vendor: str, vendor_message: str | None = None, *,
                 retry_after: float | None = None, problem: str | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        self.problem = problem  # Xero X-Rate-Limit-Problem: minute / day / concurrent / appminute
        kw.setdefault("retryable", True)
        super().__init__(vendor, vendor_message, **kw)


class Unauthorized(VendorError):
    """Credentials rejected even after a refresh: the connection must be re-authorised by a person."""


class Forbidden(VendorError):
    """Authenticated but not allowed (missing scope, app not connected to that tenant)."""


class NotFound(VendorError):
    """The resource does not exist (or the path is wrong)."""


class ValidationRejected(VendorError):
    """The vendor refused the request's content; nothing was written. Fix the data, do not retry."""


class ServerError(VendorError):
    """The vendor failed (5xx) on a request that was safe to repeat, and retries ran out."""


class NetworkError(VendorError):
    """The vendor could not be reached, and retries ran out. Nothing was processed for writes
    (a write that may have reached the server raises `UncertainWrite` instead)."""


class BadResponse(VendorError):
    """The vendor answered 2xx with something that is not the JSON we asked for.

    Keeps the start of the raw text (truncated) for diagnosis instead of crashing in a JSON parser.
    """

    def __init__(self, vendor: str, vendor_message: str | None = None, *,
                 raw: str = "", content_type: str | None = None, **kw: Any) -> None:
        self.raw = _truncate(raw, _MAX_RAW)
        self.content_type = content_type
        super().__init__(vendor, vendor_message, **kw)


class UncertainWrite(VendorError):
    """A write was sent and we cannot tell whether the vendor applied it.

    Never re-send blindly: look the records up (Xero by `Reference`, HubSpot by id) and settle each
    one. Carries the idempotency key so a replay, if the caller chooses one, is deduplicated.
    """

    def __init__(self, vendor: str, vendor_message: str | None = None, *,
                 idempotency_key: str | None = None, cause: str | None = None, **kw: Any) -> None:
        self.idempotency_key = idempotency_key
        self.cause = cause  # e.g. "ReadTimeout", "HTTP 502", "unreadable response"
        kw["retryable"] = False
        super().__init__(vendor, vendor_message, **kw)

    def _line(self) -> str:
        base = super()._line()
        return f"{base} — outcome unknown ({self.cause or 'no response'}); settle by lookup"


class ResultCapExceeded(VendorError):
    """A query matched more records than the vendor will page through and could not be split."""
