"""Pipedrive CRM connector (API v2): delta reads, batch reads by id, associations, updates.

ledgerlink's object types map to Pipedrive's: deals → deals, companies → organizations,
contacts → persons, line_items → deal products (see pipedrive_lines). Records come back as
`{"id": str, "properties": {...}}`: the vendor's top-level fields plus custom fields under their
names, read from the company's *Fields endpoints once per connector (pipedrive_fields). Values keep
their JSON types; money is Decimal. A v2 record always comes whole, so the protocol's `properties`
arguments narrow nothing: every read returns every field. Everything HTTP-generic (retries,
limits, typed errors) is `connectors.http`.
"""

from __future__ import annotations

import time

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.errors import NotFound, ValidationRejected
from connectors.hubspot import RecordsById
from connectors.http import RetryPolicy, VendorHttpClient
from connectors.paging import chunked
from connectors.pipedrive_budget import DailyBudget, token_cost
from connectors.pipedrive_fields import Field, FieldSchema
from connectors.pipedrive_lines import DealProducts, pages
from connectors.ratelimit import PIPEDRIVE_LIMITS, RateLimiter, RateLimits
from ledgerlink.model import WriteResult

ENTITIES = {"deals": "deals", "companies": "organizations", "contacts": "persons"}
FIELD_PATHS = {"deals": "dealFields", "organizations": "organizationFields",
               "persons": "personFields", "products": "productFields"}
# (from, to) → (entity listed by id, the field holding the one associated id)
LINKS = {("deals", "companies"): ("deals", "org_id"), ("deals", "contacts"): ("deals", "person_id"),
         ("contacts", "companies"): ("persons", "org_id")}
MAX_PAGE = 500
IDS_PER_CALL = 100
V2 = "/api/v2"


class ApiTokenAuth:
    """A company API token in the `x-api-token` header (the spec's api_key scheme).

    A header rather than the `api_token` query parameter, because query strings end up in proxy
    and server logs. A 401 is final: an API token cannot be refreshed.
    """

    def __init__(self, token: str | SecretStr) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)

    def headers(self) -> dict[str, str]:
        return {"x-api-token": self._token.get_secret_value()}

    def after_unauthorized(self, sent: dict[str, str]) -> bool:
        return False

    def secrets(self) -> list[str]:
        return [self._token.get_secret_value()]


def pipedrive_pacer(headers: httpx.Headers, limiter: RateLimiter) -> None:
    """Fold the server's burst count into our limiter: `x-ratelimit-remaining` syncs the 2-second
    window (other clients on the same token slow us down too), and an empty window pauses
    everyone on the budget for `x-ratelimit-reset` seconds."""
    remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
    if remaining is None or not remaining.strip().lstrip("-").isdigit():
        return
    windows = [w.seconds for w in limiter.limits.windows]
    if windows:
        limiter.sync_remaining(min(windows), int(remaining))
    if int(remaining) <= 0 and reset:
        try:
            limiter.pause(float(reset))
        except ValueError:
            pass


def rfc3339(ms: int) -> str:
    """Epoch ms as Pipedrive's `updated_since`, floored to the second: the filter is inclusive
    and stamps are whole seconds, so flooring never drops a change."""
    return datetime.fromtimestamp(max(ms, 0) // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


SCHEMA_TTL_S = 900
_SCHEMAS: dict[tuple[str, str, str], tuple[float, FieldSchema]] = {}

class PipedriveConnector:
    """One Pipedrive company (API token) for one ledgerlink tenant."""

    vendor = "pipedrive"
    change_time_resolution_ms = 1000  # change times are stamped in whole seconds

    def __init__(self, base_url: str, token: str | SecretStr, tenant: str, *,
                 limits: Mapping[str, RateLimits] | None = PIPEDRIVE_LIMITS,
                 retry: RetryPolicy = RetryPolicy(), transport: httpx.BaseTransport | None = None,
                 http: VendorHttpClient | None = None) -> None:
        self.tenant = tenant
        self.base_url = base_url
        self.budget = DailyBudget(transport)  # tokens left today, from every answer's header
        self.http = http or VendorHttpClient(
            self.vendor, base_url, tenant=tenant, auth=ApiTokenAuth(token), limits=limits,
            retry=retry, pacer=pipedrive_pacer, transport=self.budget)
        self._schemas: dict[str, FieldSchema] = {}
        self.lines = DealProducts(self.http, lambda: self.schema("products"))

    @property
    def stats(self):  # noqa: ANN201 - HttpStats
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "PipedriveConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- fields --------------------------------------------------------------------------------
    def schema(self, entity: str, fresh: bool = False) -> FieldSchema:
        """The entity's fields (custom field hashes differ per company). Fields change when an
        admin adds one, not between runs: the schema is kept for SCHEMA_TTL_S per company and
        process, so a worker's every run does not pay a call for it."""
        if entity not in self._schemas or fresh:
            key = (self.base_url, self.tenant, entity)
            cached = _SCHEMAS.get(key)
            if fresh or cached is None or time.monotonic() - cached[0] > SCHEMA_TTL_S:
                items = [item for page in pages(self.http, f"{V2}/{FIELD_PATHS[entity]}", {"limit": MAX_PAGE})
                         for item in page]
                cached = _SCHEMAS[key] = (time.monotonic(), FieldSchema(entity, [Field.from_api(i) for i in items]))
            self._schemas[entity] = cached[1]
        return self._schemas[entity]

    @staticmethod
    def _entity(object_type: str) -> str:
        try:
            return ENTITIES[object_type]
        except KeyError:
            raise ValueError(f"Pipedrive has no {object_type!r} (known: {', '.join(ENTITIES)}, "
                             f"line_items)") from None

    def modified_property(self, object_type: str) -> str:
        return "update_time"

    def modified_ms(self, object_type: str, record: Mapping[str, Any]) -> int:
        value = (record.get("properties") or {}).get("update_time")
        if not value:
            return 0
        try:
            return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return 0

    # -- delta ---------------------------------------------------------------------------------
    def search_modified_since(self, object_type: str, since_ms: int, properties: list[str],
                              page_size: int = 200, unless_set: str | None = None) -> Iterator[list[dict]]:
        """Pages of records changed at or after `since_ms`, oldest change first, each once.

        One `updated_since` + `sort_by=update_time` list, paged by cursor. Pipedrive's cursor
        marks the first record of the next page by its (update_time, id) — a keyset, not an
        offset — so a record changed while we page moves ahead of the marker and is met again
        instead of pushing unread ones behind it (the loss HubSpot's offset paging suffers).
        Met again at its new time it is a new change and is yielded again; met again at the time
        already yielded it is a duplicate, dropped: every version once per call. (Dropping every
        id seen would lose that change for good once a later change moves the cursor past it.) Should
        Pipedrive refuse a cursor mid-read, the read resumes from the last change time seen
        (inclusive filter, ids already yielded skipped). `unless_set` is ignored: the v2 lists
        filter custom fields only through saved filters.
        """
        if object_type == "line_items":
            raise ValueError("Pipedrive cannot list deal products by change time; "
                             "read them through their deals")
        entity = self._entity(object_type)
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"Pipedrive list pages hold 1 to {MAX_PAGE} records")
        schema = self.schema(entity)
        seen: set[tuple[str, int]] = set()  # (id, update_time) versions yielded by this call
        lower = since_ms
        while True:
            params = {"updated_since": rfc3339(lower), "sort_by": "update_time",
                      "sort_direction": "asc", "limit": page_size}
            resume = None
            try:
                for page in pages(self.http, f"{V2}/{entity}", params):
                    fresh = []
                    for raw in page:
                        stamp = self.modified_ms(object_type, {"properties": raw})
                        if (str(raw["id"]), stamp) in seen:
                            continue
                        seen.add((str(raw["id"]), stamp))
                        fresh.append(schema.record(raw))
                        resume = max(resume or stamp, stamp)
                    if fresh:
                        yield fresh
                return
            except ValidationRejected:
                if resume is None or resume <= lower:
                    raise   # not a cursor problem, or no progress since the last restart
                lower = resume

    # -- reads by id ---------------------------------------------------------------------------
    def batch_read(self, object_type: str, ids: Iterable[str],
                   properties: Sequence[str]) -> RecordsById:
        """Records by id, 100 per call (`ids=`); ids Pipedrive does not return are `.missing`."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        found = RecordsById()
        if object_type == "line_items":
            records, found.missing = self.lines.read(wanted)
            found.update(records)
            return found
        entity = self._entity(object_type)
        schema = self.schema(entity) if wanted else None
        for raw in self._by_ids(entity, wanted):
            found[str(raw["id"])] = schema.record(raw)  # type: ignore[union-attr]
        found.missing = [i for i in wanted if i not in found]
        return found

    def _by_ids(self, entity: str, ids: Sequence[str]) -> Iterator[dict]:
        numeric = [i for i in ids if i.isdigit()]
        for chunk in chunked(numeric, IDS_PER_CALL):
            params = {"ids": ",".join(chunk), "limit": IDS_PER_CALL}
            for page in pages(self.http, f"{V2}/{entity}", params):
                yield from page

    def read_associations(self, from_type: str, to_type: str,
                          ids: Iterable[str]) -> dict[str, list[str]]:
        """deals → companies / contacts and contacts → companies: the record's one `org_id` /
        `person_id` (batch read, 100 a call); deals → line_items: deal products in the deal's
        order (100 deals a call). No association is an empty list."""
        wanted = [str(i) for i in ids]
        if (from_type, to_type) == ("deals", "line_items"):
            return self.lines.ids_by_deal(wanted)
        link = LINKS.get((from_type, to_type))
        if link is None:
            raise ValueError(f"Pipedrive connector reads no {from_type} → {to_type} association")
        entity, field = link
        found: dict[str, list[str]] = {i: [] for i in wanted}
        for raw in self._by_ids(entity, list(dict.fromkeys(wanted))):
            if raw.get(field) is not None:
                found[str(raw["id"])] = [str(raw[field])]
        return found

    # -- writes --------------------------------------------------------------------------------
    def batch_update(self, object_type: str,
                     updates: Mapping[str, Mapping[str, str]]) -> list[WriteResult]:
        """Set properties on records: one batch read, then one PATCH per record that differs.

        Pipedrive has no batch update and no idempotency key. Reading first makes a re-send
        write nothing (records already holding the values are skipped), and makes a PATCH safe
        to retry like a read: it sets values, so applying it twice equals applying it once.
        Field names become hashes for custom fields; an unknown name fails that record alone,
        naming the field, as does a 4xx Pipedrive answers for it (with Pipedrive's message).
        PATCHes the day's token budget cannot pay for are not started at all: `RateLimited`
        (`connectors.pipedrive_budget`), rather than half a write-back and an empty budget.
        """
        if object_type == "line_items":
            raise ValueError("Pipedrive deal products are not updated by ledgerlink")
        entity = self._entity(object_type)
        if not updates:
            return []
        schema = self.schema(entity)
        if any(not schema.knows(name) for values in updates.values() for name in values):
            schema = self.schema(entity, fresh=True)  # a field an admin added since the schema was read
        current = self.batch_read(object_type, list(updates), [])
        outcome: dict[str, WriteResult] = {}
        patches: dict[str, dict] = {}
        for record_id, values in updates.items():
            key = str(record_id)
            if key not in current:
                outcome[key] = WriteResult(key=key, ok=False,
                                           errors=(f"{entity[:-1]} {key} not found in Pipedrive",))
                continue
            body, problems = schema.patch_body(current[key]["properties"], values)
            if problems:
                outcome[key] = WriteResult(key=key, ok=False, errors=tuple(problems))
            elif body:
                patches[key] = body
            else:
                outcome[key] = WriteResult(key=key, ok=True, target_id=key)
        self.budget.afford(token_cost("PATCH", f"{V2}/{entity}/{{id}}") * len(patches),
                           f"writing back {len(patches)} {entity}")
        for key, body in patches.items():
            try:
                self.http.request("PATCH", f"{V2}/{entity}/{key}", json_body=body, read=True)
            except (ValidationRejected, NotFound) as err:
                outcome[key] = WriteResult(key=key, ok=False, errors=(err.vendor_message or str(err),))
                continue
            outcome[key] = WriteResult(key=key, ok=True, target_id=key)
        return [outcome[str(record_id)] for record_id in updates]
