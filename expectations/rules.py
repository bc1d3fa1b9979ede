"""What a failed expectation means to the person who has to fix the record.

GX reports *which* rows broke *which* expectation; finance and sales-ops need a reason code they
can filter on, an owner, and one sentence with the offending value in it. That information lives in
each expectation's `meta` in the suite YAML, so adding a check never needs code. This module reads
that meta once (at suite load, so typos fail fast) and renders it per failing row.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from string import Formatter
from typing import Any, Mapping

REQUIRED_META = ("reason_code", "owner", "message")
DISPLAYS = ("text", "cents")
MISSING_TEXT = "missing"
SHOWN_LIMIT = 60  # characters of an offending value a message quotes
_UNREADABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, as the gate's callers see it."""

    expectation: str
    columns: tuple[str, ...]
    reason_code: str
    owner: str
    message: str
    display: str = "text"
    severity: str = "error"  # "warning": the row still moves; the warning is shown to whoever reviews it

    @property
    def column(self) -> str:
        """Pair and multi-column expectations name all their columns, comma-separated."""
        return ",".join(self.columns)

    @classmethod
    def from_expectation(cls, expectation: str, kwargs: Mapping, meta: Mapping | None) -> Rule:
        """Build a rule, raising ValueError with a readable reason when the meta is unusable."""
        columns = columns_of(kwargs)
        if not columns:
            raise ValueError(f"{expectation} names no column, so it cannot fail individual rows")
        meta = meta or {}
        missing = [key for key in REQUIRED_META if not str(meta.get(key) or "").strip()]
        if missing:
            names = ", ".join(f"meta.{key}" for key in missing)
            raise ValueError(f"{expectation} on {','.join(columns)} has no {names}")
        display = meta.get("display", "text")
        if display not in DISPLAYS:
            raise ValueError(f"{expectation}: meta.display must be one of {DISPLAYS}")
        severity = meta.get("severity", "error")
        if severity not in ("error", "warning"):
            raise ValueError(f"{expectation}: meta.severity must be error or warning")
        rule = cls(
            expectation, columns, meta["reason_code"], meta["owner"], meta["message"], display, severity
        )
        unknown = rule._template_fields() - {"value", "column", *columns}
        if unknown:
            raise ValueError(
                f"{expectation} on {rule.column}: meta.message uses unknown field(s) "
                f"{', '.join(sorted(unknown))}; use {{value}}, {{column}} or {', '.join(columns)}"
            )
        return rule

    def value_of(self, row: Mapping[str, Any]) -> Any:
        """The offending value exactly as the caller passed it; a dict for pairs and lists."""
        if len(self.columns) == 1:
            return row.get(self.columns[0])
        return {column: row.get(column) for column in self.columns}

    def describe(self, row: Mapping[str, Any]) -> str:
        """The readable sentence for this row, e.g. 'deal amount must be ... (got -1500.00)'."""
        shown = {column: show(row.get(column), self.display) for column in self.columns}
        if len(self.columns) == 1:
            value = shown[self.columns[0]]
        else:
            value = ", ".join(f"{column}={text}" for column, text in shown.items())
        return self.message.format_map({**shown, "value": value, "column": self.column})

    def _template_fields(self) -> set[str]:
        try:
            parsed = list(Formatter().parse(self.message))
        except ValueError as exc:
            raise ValueError(f"{self.expectation}: meta.message is not a template: {exc}") from exc
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name is not None}


def columns_of(kwargs: Mapping) -> tuple[str, ...]:
    """The columns an expectation reads: `column`, `column_A` and `column_B`, or `column_list`."""
    if kwargs.get("column"):
        return (kwargs["column"],)
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return (kwargs["column_A"], kwargs["column_B"])
    return tuple(kwargs.get("column_list") or ())


def show(value: Any, display: str = "text") -> str:
    """Render one value for people: cents as an amount, dates as ISO, nothing as 'missing'.

    On one line and at most SHOWN_LIMIT characters, whatever the record holds: a message is read by a
    person, and a pasted 100 kB name or a value with line breaks and control characters would bury,
    split or garble it (they are shown escaped, as \\n or \\x00)."""
    if value is None:
        return MISSING_TEXT
    if display == "cents" and not isinstance(value, bool):
        try:
            return _one_line(f"{Decimal(value).scaleb(-2):.2f}")
        except (InvalidOperation, TypeError, ValueError):
            return _one_line(str(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return _one_line(str(value))


def _one_line(text: str) -> str:
    escaped = "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _UNREADABLE else ch
                      for ch in text[:SHOWN_LIMIT])
    return escaped if len(escaped) <= SHOWN_LIMIT and len(text) <= SHOWN_LIMIT else escaped[: SHOWN_LIMIT - 1] + "…"
