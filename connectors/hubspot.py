"""HubSpot CRM v3/v4 connector: delta search past the 10,000 cap, batch reads and updates.

Returns HubSpot's raw records (`{"id", "properties", ...}`); mapping to the canonical model is the
transform layer's job. Everything HTTP-generic (retries, limits, errors) is in `connectors.http`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from connectors.errors import NotFound, ResultCapExceeded, ValidationRejected
from connectors.http import RetryPolicy, VendorHttpClient
from connectors.oauth import BearerAuth
from connectors.paging import chunked
from connectors.ratelimit import HUBSPOT_LIMITS, RateLimiter, RateLimits
from ledgerlink.model import WriteResult

SEARCH_CAP = 10_000  # HubSpot answers 400 to any page past the 10,000th result of one query
BATCH_SIZE = 100
ASSOCIATION_BATCH_SIZE = 1000
_CONTACT_TYPES = {"contacts", "contact", "0-1"}


def modified_property(object_type: str) -> str:
    """Contacts keep their change time in `lastmodifieddate`; every other object type in
    `hs_lastmodifieddate`."""
    return "lastmodifieddate" if object_type in _CONTACT_TYPES else "hs_lastmodifieddate"


def hubspot_pacer(headers: httpx.Headers, limiter: RateLimiter) -> None:
    """Fold `X-HubSpot-RateLimit-Remaining` for its interval into our limiter."""
    remaining = headers.get("X-HubSpot-RateLimit-Remaining")
    interval_ms = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    if remaining and interval_ms and remaining.isdigit() and interval_ms.isdigit():
        limiter.sync_remaining(int(interval_ms) / 1000, int(remaining))


def _to_ms(value: Any) -> int | None:
    """HubSpot datetimes arrive as epoch milliseconds or ISO 8601; compare them as milliseconds."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _filter(prop: str, operator: str, value: object) -> dict[str, str]:
    return {"propertyName": prop, "operator": operator, "value": str(value)}


class RecordsById(dict[str, dict]):
    """`batch_read`'s answer: found records by id; `missing` lists requested ids not found."""

    missing: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.missing = []


@dataclass
class _QueryState:
    capped: bool = False  # more results exist beyond what this query may page to


class HubSpotConnector:
    """One HubSpot account (private-app token) for one ledgerlink tenant."""

    vendor = "hubspot"
    change_time_resolution_ms = 1  # change times are stamped in milliseconds

    def __init__(self, base_url: str, token: str, tenant: str, *,
                 http: VendorHttpClient | None = None,
                 limits: Mapping[str, RateLimits] | None = HUBSPOT_LIMITS,
                 retry: RetryPolicy = RetryPolicy(),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.tenant = tenant
        self.http = http or VendorHttpClient(
            self.vendor, base_url, tenant=tenant, auth=BearerAuth(token), limits=limits,
            retry=retry, pacer=hubspot_pacer, transport=transport)

    @property
    def stats(self):  # noqa: ANN201 - HttpStats
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "HubSpotConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def modified_property(self, object_type: str) -> str:
        return modified_property(object_type)

    def modified_ms(self, object_type: str, record: Mapping[str, Any]) -> int:
        return _to_ms((record.get("properties") or {}).get(modified_property(object_type))) or 0

    # -- delta search --------------------------------------------------------------------------
    def search_modified_since(self, object_type: str, since_ms: int, properties: list[str],
                              page_size: int = 200, unless_set: str | None = None) -> Iterator[list[dict]]:
        """Pages of records modified at or after `since_ms`, oldest change first, each once.

        Keyset paging: every page is a fresh query whose lower bound is the last modified time
        seen, dropping the ids already yielded at exactly that time. Offset paging (`after`)
        over a result set sorted by modification time loses records whenever one is modified
        while we page (it jumps to the end and everything behind it shifts forward) — and the
        sync itself modifies deals when it writes invoice numbers back. Keyset paging also never
        meets the 10,000-result cap. If a whole page shares one timestamp, that timestamp is
        walked by `hs_object_id` instead. `unless_set` leaves out records that already hold that
        property (`NOT_HAS_PROPERTY`): a handoff's own write-backs are not read back as changes.
        """
        if not 1 <= page_size <= 200:
            raise ValueError("HubSpot search pages hold 1 to 200 records")
        prop = modified_property(object_type)
        props = list(dict.fromkeys([*properties, prop, "hs_object_id"]))
        lower, seen = since_ms, set[str]()  # seen: ids yielded whose change time == lower
        unset = [{"propertyName": unless_set, "operator": "NOT_HAS_PROPERTY"}] if unless_set else []
        while True:
            state = _QueryState()
            top, top_ids, at_top, in_window = lower, set(seen), 0, 0
            for page in self._query(object_type, [_filter(prop, "GTE", lower), *unset], prop, props,
                                    page_size, state):
                fresh = []
                for record in page:
                    stamp = _to_ms(record.get("properties", {}).get(prop))
                    stamp = top if stamp is None else stamp
                    in_window += 1
                    if stamp > top:
                        top, top_ids, at_top = stamp, set(), 0
                    if stamp == top:
                        at_top += 1
                    if stamp == lower and record["id"] in seen:
                        continue  # yielded by the previous window at the boundary timestamp
                    fresh.append(record)
                    if stamp == top:
                        top_ids.add(record["id"])
                if fresh:
                    yield fresh
            if not state.capped:
                return
            if top > lower and at_top < in_window:
                lower, seen = top, top_ids  # restart at the last timestamp seen
                continue
            # A whole query's worth of results at one timestamp: walk it by id instead.
            yield from self._walk_one_timestamp(object_type, prop, top, top_ids, props, page_size, unset)
            lower, seen = top + 1, set()

    def _walk_one_timestamp(self, object_type: str, prop: str, stamp: int, seen: set[str],
                            props: list[str], page_size: int, unset: list[dict]) -> Iterator[list[dict]]:
        """Every record changed at exactly `stamp`, windowed by `hs_object_id`, minus `seen`."""
        floor: str | None = None
        while True:
            filters = [_filter(prop, "EQ", stamp), *unset]
            if floor is not None:
                filters.append(_filter("hs_object_id", "GT", floor))
            state = _QueryState()
            last = floor
            for page in self._query(object_type, filters, "hs_object_id", props, page_size, state):
                if page:
                    last = str(page[-1]["id"])
                fresh = [r for r in page if r["id"] not in seen]
                if fresh:
                    yield fresh
            if not state.capped:
                return
            if last == floor:
                raise ResultCapExceeded(self.vendor, f"cannot page past {SEARCH_CAP} results "
                                        f"at one timestamp", method="POST",
                                        path="/crm/v3/objects/{type}/search")
            floor = last

    def _query(self, object_type: str, filters: list[dict], sort_by: str, props: list[str],
               page_size: int, state: _QueryState) -> Iterator[list[dict]]:
        """The first page of one search query; `state.capped` says whether more match."""
        after = "0"
        while True:
            body = {"filterGroups": [{"filters": filters}],
                    "sorts": [sort_by],  # the spec's form: a property name, ascending
                    "properties": props, "limit": page_size, "after": after}
            reply = self.http.post(f"/crm/v3/objects/{object_type}/search",
                                   template="/crm/v3/objects/{type}/search", json_body=body,
                                   read=True, bucket="search")
            results = reply.body.get("results") or []
            yield results
            after = ((reply.body.get("paging") or {}).get("next") or {}).get("after")
            state.capped = bool(after and results)  # more to read: the caller re-queries (keyset)
            return

    # -- associations --------------------------------------------------------------------------
    def read_associations(self, from_type: str, to_type: str,
                          ids: Iterable[str]) -> dict[str, list[str]]:
        """Associated ids per requested id (v4 batch read); no associations is an empty list."""
        found: dict[str, list[str]] = {str(i): [] for i in ids}
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        for chunk in chunked(list(found), ASSOCIATION_BATCH_SIZE):
            pending: list[dict[str, str]] = [{"id": i} for i in chunk]
            while pending:
                reply = self.http.post(path, template="/crm/v4/associations/{from}/{to}/batch/read",
                                       json_body={"inputs": pending}, read=True)
                pending = []
                for item in reply.body.get("results") or []:
                    source = str(item["from"]["id"])
                    targets = found.setdefault(source, [])
                    for target in item.get("to") or []:
                        target_id = str(target["toObjectId"])
                        if target_id not in targets:
                            targets.append(target_id)
                    after = ((item.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        pending.append({"id": source, "after": after})
                # 207 errors name ids with no associations: they keep their empty list
        if to_type == "line_items":  # the order lines were added in (HubSpot's ids grow), not the API's
            for targets in found.values():
                targets.sort(key=lambda i: (len(i), i))
        return found

    # -- batch read / update -------------------------------------------------------------------
    def batch_read(self, object_type: str, ids: Iterable[str],
                   properties: Sequence[str]) -> RecordsById:
        """Records by id, ≤ 100 per call; ids HubSpot does not know are listed in `.missing`."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        found = RecordsById()
        properties = list(dict.fromkeys([*properties, modified_property(object_type)]))
        for chunk in chunked(wanted, BATCH_SIZE):
            body = {"inputs": [{"id": i} for i in chunk], "properties": properties,
                    "propertiesWithHistory": []}
            try:
                reply = self.http.post(f"/crm/v3/objects/{object_type}/batch/read",
                                       template="/crm/v3/objects/{type}/batch/read",
                                       json_body=body, read=True)
            except NotFound as err:
                if not _is_object_not_found(err.detail):
                    raise
                continue  # none of this chunk exists
            for record in reply.body.get("results") or []:
                found[str(record["id"])] = record
        found.missing = [i for i in wanted if i not in found]
        return found

    def batch_update(self, object_type: str,
                     updates: Mapping[str, Mapping[str, str]]) -> list[WriteResult]:
        """Set properties on records, ≤ 100 per call, one `WriteResult` per id.

        Setting the same values twice changes nothing, so the update is retried like a read.
        A 200 or 207 is read per item; a whole-batch rejection (400/404) fails every id of that
        batch with the vendor's message, since HubSpot does not say which input caused it.
        """
        results: list[WriteResult] = []
        for chunk in chunked(list(updates.items()), BATCH_SIZE):
            ids = [str(i) for i, _ in chunk]
            body = {"inputs": [{"id": str(i), "properties": dict(props)} for i, props in chunk]}
            try:
                reply = self.http.post(f"/crm/v3/objects/{object_type}/batch/update",
                                       template="/crm/v3/objects/{type}/batch/update",
                                       json_body=body, read=True)
            except (ValidationRejected, NotFound) as err:
                message = err.vendor_message or str(err)
                results += [WriteResult(key=i, ok=False, errors=(message,)) for i in ids]
                continue
            results += _per_item(ids, reply.body)
        return results


def _is_object_not_found(body: Any) -> bool:
    return isinstance(body, dict) and body.get("category") == "OBJECT_NOT_FOUND"


def _error_ids(error: Mapping[str, Any]) -> list[str]:
    context = error.get("context") or {}
    for key in ("ids", "id", "objectId", "objectIds"):
        value = context.get(key)
        if value:
            return [str(v) for v in (value if isinstance(value, list) else [value])]
    return []


def _per_item(ids: list[str], body: Mapping[str, Any]) -> list[WriteResult]:
    done = {str(r["id"]) for r in body.get("results") or []}
    problems: dict[str, list[str]] = {}
    unattributed: list[str] = []
    for error in body.get("errors") or []:
        message = error.get("message") or error.get("category") or "rejected"
        named = _error_ids(error)
        for i in named:
            problems.setdefault(i, []).append(message)
        if not named:
            unattributed.append(message)
    out = []
    for i in ids:
        if i in done and i not in problems:
            out.append(WriteResult(key=i, ok=True, target_id=i))
        else:
            reasons = problems.get(i) or unattributed or ["no result returned for this id"]
            out.append(WriteResult(key=i, ok=False, errors=tuple(reasons)))
    return out
