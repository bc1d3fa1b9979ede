"""Vendor timestamps to aware datetimes: HubSpot sends ISO text or epoch milliseconds, Xero sends
'/Date(1700000000000+0000)/' or ISO text. One parser, so cursors compare like with like."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC-based datetime, None for a missing value; ValueError for anything unreadable."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("/Date("):
        millis = int(text[6:].split(")")[0].split("+")[0].split("-")[0])
        return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch (0 when missing): HubSpot's cursor unit."""
    stamp = parse_timestamp(value)
    return int(stamp.timestamp() * 1000) if stamp else 0


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive, in UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
