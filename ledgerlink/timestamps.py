"""Vendor timestamps to aware datetimes: HubSpot sends ISO text or epoch milliseconds, Xero sends
'/Date(1700000000000+0000)/' or ISO text. One parser, so cursors compare like with like."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC-based datetime, None for a missing value; ValueError for anything unreadable."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("/Date("):
        millis = int(text[6:].split(")")[0].split("+")[0].split("-")[0])
        return _EPOCH + timedelta(milliseconds=millis)
    if text.isdigit():
        return _EPOCH + timedelta(milliseconds=int(text))
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch (0 when missing), exactly (no float rounding): the cursors' unit."""
    stamp = value if isinstance(value, datetime) else parse_timestamp(value)
    if stamp is None:
        return 0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return (stamp - _EPOCH) // timedelta(milliseconds=1)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive, in UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
