"""List queries the way Pipedrive API v2 pages them: sorted, filtered, keyset cursors.

Pipedrive's `cursor` is opaque to clients but is in fact a marker of the first item of the next
page — base64 of {"field", "fieldValue", "sortDirection", "id"} (the spec's own example decodes to
exactly that). A marker is a position in the sort order, not an offset, so a record that changes
while a client pages moves *ahead* of the marker and is met again rather than skipping others;
the emulator implements that semantics so connectors are tested against it.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from connectors.sandbox.timeutil import parse_iso

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_IDS = 100
TIME_FIELDS = frozenset({"update_time", "add_time"})


class QueryError(ValueError):
    """A parameter Pipedrive would refuse with 400."""


def pd_time(ms: int) -> str:
    """Pipedrive's timestamp form: RFC 3339 in UTC, whole seconds (2025-01-01T10:20:00Z)."""
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value: str, name: str) -> int:
    try:
        return parse_iso(value)
    except ValueError:
        raise QueryError(f"Invalid {name}: expected an RFC3339 date-time such as "
                         f"2025-01-01T10:20:00Z") from None


def encode_cursor(field: str, key: int, direction: str, record_id: int) -> str:
    value: Any = pd_time(key) if field in TIME_FIELDS else key
    raw = json.dumps({"field": field, "fieldValue": value, "sortDirection": direction, "id": record_id},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, field: str, direction: str) -> tuple[Any, int]:
    """The (sort key, id) a cursor marks; QueryError when it is not one of ours for this sort."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        if data["field"] != field or data["sortDirection"] != direction:
            raise QueryError("The cursor does not belong to this sort order")
        value = data["fieldValue"]
        key = parse_iso(value) if field in TIME_FIELDS else value
        return key, int(data["id"])
    except QueryError:
        raise
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise QueryError("Invalid cursor") from None


@dataclass
class ListParams:
    """The query parameters shared by the v2 list endpoints, parsed and checked."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    sort_by: str = "id"
    direction: str = "asc"
    ids: list[int] | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    statuses: set[str] | None = None

    @classmethod
    def parse(cls, query: Any, sort_fields: tuple[str, ...], *, status_values: tuple[str, ...] = (),
              id_param: str = "ids") -> "ListParams":
        params = cls()
        raw_limit = query.get("limit")
        if raw_limit is not None:
            try:
                params.limit = int(raw_limit)
            except ValueError:
                raise QueryError("limit must be an integer") from None
            if not 1 <= params.limit <= MAX_LIMIT:
                raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        params.cursor = query.get("cursor") or None
        params.sort_by = query.get("sort_by") or "id"
        if params.sort_by not in sort_fields:
            raise QueryError(f"sort_by must be one of: {', '.join(sort_fields)}")
        params.direction = query.get("sort_direction") or "asc"
        if params.direction not in ("asc", "desc"):
            raise QueryError("sort_direction must be asc or desc")
        if query.get(id_param):
            params.ids = parse_ids(query[id_param], id_param)
        if query.get("updated_since"):
            params.since_ms = parse_rfc3339(query["updated_since"], "updated_since")
        if query.get("updated_until"):
            params.until_ms = parse_rfc3339(query["updated_until"], "updated_until")
        if query.get("status") and status_values:
            params.statuses = set(query["status"].split(","))
            unknown = params.statuses - set(status_values)
            if unknown:
                raise QueryError(f"status must be one of: {', '.join(status_values)}")
        return params


def parse_ids(text: str, name: str, limit: int = MAX_IDS) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise QueryError(f"{name} must be a comma separated list of integers") from None
    if len(ids) > limit:
        raise QueryError(f"{name} accepts at most {limit} ids")
    return list(dict.fromkeys(ids))


def page(pairs: list[tuple[Any, int]], params: ListParams) -> tuple[list[int], str | None]:
    """One page of ids from ascending (sort key, id) pairs, and the cursor of the next page."""
    marker = decode_cursor(params.cursor, params.sort_by, params.direction) if params.cursor else None
    limit = params.limit
    if params.direction == "asc":
        start = bisect.bisect_left(pairs, marker) if marker else 0
        window = pairs[start:start + limit + 1]
    else:
        end = bisect.bisect_right(pairs, marker) if marker else len(pairs)
        window = pairs[max(0, end - limit - 1):end][::-1]
    following = None
    if len(window) > limit:
        key, record_id = window[limit]
        following = encode_cursor(params.sort_by, key, params.direction, record_id)
    return [record_id for _, record_id in window[:limit]], following
