"""The QuickBooks Online calls the connector is made of: query, paged and keyset reads, CDC, batch.

Everything goes through the shared `VendorHttpClient` (retries, typed errors, limiter,
`UncertainWrite`). What is QBO-specific lives here:

* every call carries `minorversion`; queries always name MAXRESULTS (QBO's default is 100);
* a 429 `ThrottleExceeded` comes without Retry-After, and Intuit says to wait 60 s: the transport
  adapter below writes that documented wait into the answer as `Retry-After`, so the shared client
  pauses the tenant's budget and raises `RateLimited(retry_after=60)` like for any vendor;
* batch calls use the limiter's "batch" bucket (40/minute) and a `requestid` derived from the
  caller's idempotency key and the exact body (≤ 36 characters): the same write re-sent after a lost
  answer is answered by QBO from its first response, while a changed body is a new request;
* change reads use a keyset over `MetaData.LastUpdatedTime` (≥ the newest time seen, skipping ids
  already yielded at that second) rather than STARTPOSITION alone, which skips records when others
  change while the pages are read; only a page full of one second is walked by STARTPOSITION, and
  walked again until nothing new turns up. QBO writes times in whole seconds, so `since` is inclusive.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from connectors.errors import BadResponse, UncertainWrite
from connectors.http import VendorHttpClient, dumps_exact
from connectors.paging import chunked_by_length
from connectors.quickbooks_mapping import query_literal, query_time, updated_at

MINOR_VERSION = 75
PAGE = 1000  # QBO's most per query
MAX_IN_CHARS = 1500  # an IN (...) list per query: well inside URL limits
MAX_IN_TERMS = 200
CDC_LOOK_BACK = timedelta(days=29)  # QBO allows 30; a day's margin for clocks and slow runs
CDC_CAP = 1000
_REQUEST_ID_SPACE = uuid.UUID("5b0f3c8e-7d1a-4c2b-9e6f-1a2b3c4d5e6f")


class ThrottleHint(httpx.BaseTransport):
    """Adds QBO's documented 60 s wait as `Retry-After` to a 429 that names no wait of its own."""

    def __init__(self, inner: httpx.BaseTransport | None, wait_s: float) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.wait_s = wait_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code == 429 and "retry-after" not in response.headers:
            response.headers["Retry-After"] = f"{self.wait_s:g}"
        return response

    def close(self) -> None:
        self.inner.close()


def request_id(idempotency_key: str, body: Any) -> str:
    """A 36-character requestid: the same key and the same body always give the same one."""
    digest = hashlib.sha256(dumps_exact(body).encode("utf-8")).hexdigest()
    return str(uuid.uuid5(_REQUEST_ID_SPACE, f"{idempotency_key}\n{digest}"))


class QuickBooksApi:
    def __init__(self, http: VendorHttpClient, minor_version: int = MINOR_VERSION) -> None:
        self.http = http
        self.minor_version = minor_version

    def _params(self, **params: Any) -> dict[str, Any]:
        return {**params, "minorversion": self.minor_version}

    def _body(self, reply_body: Any, key: str, path: str) -> Any:
        if not isinstance(reply_body, dict) or key not in reply_body:
            raise BadResponse("quickbooks", f"answer without {key}", method="GET", path=path)
        return reply_body[key]

    # ---- reads ----------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any]:
        return self.http.get(path, params=self._params()).body

    def query(self, text: str) -> dict[str, Any]:
        """One query's QueryResponse (an empty dict when nothing matched)."""
        return self._body(self.http.get("/query", params=self._params(query=text)).body,
                          "QueryResponse", "/query") or {}

    def query_pages(self, entity: str, where: str = "", order: str = "",
                    page_size: int = PAGE) -> Iterator[list[dict[str, Any]]]:
        """Every page of a query, by STARTPOSITION (for reads whose rows do not move meanwhile)."""
        start = 1
        while True:
            rows = self.query(f"select * from {entity}{where}{order} STARTPOSITION {start} "
                              f"MAXRESULTS {page_size}").get(entity) or []
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            start += page_size

    def where_in(self, entity: str, field: str, values: Sequence[str], extra: str = "") -> list[dict[str, Any]]:
        """Records whose `field` is one of `values`, in as few queries as the URL allows."""
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(str(v) for v in values))
        for chunk in chunked_by_length(unique, query_literal, max_chars=MAX_IN_CHARS,
                                       max_items=MAX_IN_TERMS, separator=","):
            clause = f" where {field} in ({','.join(map(query_literal, chunk))}){extra}"
            for page in self.query_pages(entity, clause):
                found.extend(page)
        return found

    def changed_pages(self, entity: str, since: datetime | None, page_size: int,
                      condition: str = "") -> Iterator[list[dict[str, Any]]]:
        """Pages of `entity` changed at or after `since`, oldest change first (keyset paging).

        Each page is a fresh query from the newest second seen (ids already yielded at that second
        skipped). A whole page inside one second is walked by STARTPOSITION (`_walk_second`), then
        the read goes on strictly after that second.
        """
        lower = datetime.fromisoformat(query_time(since)) if since is not None else None
        op, seen = ">=", set[str]()  # seen: ids yielded whose change time is `lower`
        while True:
            rows = self._changed(entity, condition, lower, op, 1, page_size)
            fresh = [r for r in rows if not (updated_at(r) == lower and str(r["Id"]) in seen)]
            if fresh:
                yield fresh
            if len(rows) < page_size:
                return
            newest = updated_at(rows[-1])
            if newest != lower:
                lower, op = newest, ">="
                seen = {str(r["Id"]) for r in rows if updated_at(r) == newest}
                continue
            seen |= {str(r["Id"]) for r in rows}  # a whole page inside the second `lower`
            seen = yield from self._walk_second(entity, condition, lower, page_size, seen)
            op = ">"

    def _walk_second(self, entity: str, condition: str, at: datetime, page_size: int,
                     seen: set[str]) -> Generator[list[dict[str, Any]], None, set[str]]:
        """Every record changed within the second `at`, by STARTPOSITION, minus `seen`.

        Positions shift under the reader: a record of that second changed meanwhile leaves it, and
        every record behind it moves up one place, so the next page would start one record late.
        The second is walked again from the start until a pass finds nothing new.
        """
        start, found = 1 + page_size, True  # the first page was the caller's
        while True:
            rows = self._changed(entity, condition, at, ">=", start, page_size)
            same = [r for r in rows if updated_at(r) == at]
            fresh = [r for r in same if str(r["Id"]) not in seen]
            if fresh:
                yield fresh
                seen, found = seen | {str(r["Id"]) for r in fresh}, True
            if len(rows) == page_size and len(same) == len(rows):
                start += page_size
            elif found:
                start, found = 1, False
            else:
                return seen

    def _changed(self, entity: str, condition: str, lower: datetime | None, op: str, start: int,
                 page_size: int) -> list[dict[str, Any]]:
        clauses = [c for c in (condition, lower and f"MetaData.LastUpdatedTime {op} "
                                                    f"{query_literal(query_time(lower))}") if c]
        where = f" where {' and '.join(clauses)}" if clauses else ""
        return self.query(f"select * from {entity}{where} ORDERBY MetaData.LastUpdatedTime "
                          f"STARTPOSITION {start} MAXRESULTS {page_size}").get(entity) or []

    def cdc_allowed(self, since: datetime | None) -> bool:
        return since is not None and since >= datetime.now(timezone.utc) - CDC_LOOK_BACK

    def cdc(self, entity: str, since: datetime) -> list[dict[str, Any]] | None:
        """Changes of one entity since `since` by CDC, oldest first; None when QBO may have cut
        the answer at its 1,000 objects (the caller then reads by query instead)."""
        body = self.http.get("/cdc", params=self._params(entities=entity,
                                                         changedSince=query_time(since))).body
        rows: list[dict[str, Any]] = []
        for answer in self._body(body, "CDCResponse", "/cdc") or []:
            for response in answer.get("QueryResponse") or []:
                rows.extend(response.get(entity) or [])
        if len(rows) >= CDC_CAP:
            return None
        return sorted(rows, key=lambda r: (updated_at(r) or since, _id_key(r)))

    # ---- writes ---------------------------------------------------------------------------
    def batch(self, items: list[dict[str, Any]], idempotency_key: str) -> dict[str, dict[str, Any]]:
        """Send ≤ 30 BatchItemRequests; the BatchItemResponse per bId. An answer that does not
        account for every item is an uncertain write, settled by lookup."""
        body = {"BatchItemRequest": items}
        rid = request_id(idempotency_key, body)
        reply = self.http.post("/batch", params=self._params(requestid=rid), json_body=body,
                               idempotency_key=idempotency_key, bucket="batch")
        answers = reply.body.get("BatchItemResponse") if isinstance(reply.body, dict) else None
        by_bid = {str(a.get("bId")): a for a in answers or [] if isinstance(a, dict)}
        if set(by_bid) != {str(i["bId"]) for i in items}:
            self.http.stats.add(uncertain_writes=1)
            raise UncertainWrite("quickbooks", f"the batch answer does not list our {len(items)} items",
                                 method="POST", path="/batch", idempotency_key=idempotency_key,
                                 cause="answer does not match the request")
        return by_bid


def _id_key(record: Mapping[str, Any]) -> tuple[int, int | str]:
    text = str(record.get("Id", ""))
    return (0, int(text)) if text.isdigit() else (1, text)


def fault_messages(answer: Mapping[str, Any]) -> tuple[tuple[str, ...], set[str]]:
    """(readable messages, error codes) of a batch item's Fault."""
    errors = ((answer.get("Fault") or {}).get("Error") or [])
    messages = tuple(" — ".join(str(e[k]) for k in ("Message", "Detail") if e.get(k)) + f" (code {e.get('code')})"
                     for e in errors) or ("rejected",)
    return messages, {str(e.get("code")) for e in errors}
