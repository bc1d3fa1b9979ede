"""Time formats the two vendors speak, in one place.

HubSpot writes ISO-8601 UTC with milliseconds ("2024-05-10T16:50:41.180Z") and accepts epoch
milliseconds in search filters; Xero writes Microsoft JSON dates ("/Date(1706659200000+0000)/")
next to plain "DateString" fields. Every emulator stores epoch milliseconds (ints) and converts
only at the edge, so ordering and comparisons stay cheap integer work.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_DIGITS = re.compile(r"^-?\d+$")


def wall_ms() -> int:
    """Current wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class MonotonicMs:
    """Hands out wall-clock milliseconds that never go backwards.

    Vendors' `updatedAt`/`UpdatedDateUTC` are what delta syncs page on; a value that repeats for
    the same record or runs backwards would let a cursor skip a change, so every write asks this
    clock for a stamp strictly after the record's previous one.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def stamp(self, after: int | None = None) -> int:
        """A stamp >= every earlier stamp and strictly > `after` (the record's previous value)."""
        with self._lock:
            now = max(wall_ms(), self._last)
            if after is not None and now <= after:
                now = after + 1
            self._last = now
            return now

    def observe(self, ms: int) -> None:
        """Make later stamps come after `ms` (used after loading saved state)."""
        with self._lock:
            self._last = max(self._last, ms)


def iso_ms(ms: int) -> str:
    """HubSpot's timestamp form: 2024-05-10T16:50:41.180Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(value: str) -> int:
    """ISO-8601 date or datetime (naive = UTC) to epoch ms; raises ValueError when not one."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    else:
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def parse_epoch_or_iso(value: str | int) -> int:
    """HubSpot filter values: epoch-ms digits or ISO-8601. Raises ValueError otherwise."""
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if _DIGITS.match(text):
        return int(text)
    return parse_iso(text)


def ms_date(ms: int) -> str:
    """Xero's Microsoft JSON date: /Date(1706659200000+0000)/."""
    return f"/Date({ms}+0000)/"


def day_ms(day: str) -> int:
    """Midnight UTC of a YYYY-MM-DD day, in epoch ms."""
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(),
                                tzinfo=timezone.utc).timestamp() * 1000)


def ms_day(ms: int) -> str:
    """The UTC calendar day (YYYY-MM-DD) of an epoch-ms instant."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).date().isoformat()


def xero_date_string(day: str) -> str:
    """Xero's DateString for a calendar day: 2024-01-31T00:00:00."""
    return f"{day}T00:00:00"


def parse_xero_date(value: object) -> str:
    """A Xero input date ("2024-01-31", "2024-01-31T00:00:00", "/Date(ms+0000)/") to YYYY-MM-DD.

    Raises ValueError for anything else, which the caller reports as a validation error.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return ms_day(int(match.group(1)))
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return date.fromisoformat(text[:10]).isoformat()
    raise ValueError(f"not a date: {value!r}")


def parse_if_modified_since(value: str) -> int:
    """If-Modified-Since as RFC 1123 ("Wed, 21 Oct 2015 07:28:00 GMT") or ISO-8601, to epoch ms."""
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return int(match.group(1))
    if text[:4].isdigit():
        return parse_iso(text)
    parsed = parsedate_to_datetime(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def today_utc() -> str:
    """Today's UTC day as YYYY-MM-DD."""
    return datetime.now(timezone.utc).date().isoformat()
