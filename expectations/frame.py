"""Turn the gate's rows (plain dicts) into the pandas frame GX validates.

Values keep their meaning on the way in: integer money stays integer (nullable `Int64`, so a
missing amount is NA and never a float NaN), dates become datetimes so `due >= issue` compares
as dates, and decimal quantities become floats only for comparison (a quantity is not money).
Which column is which is declared in the suite's `meta.column_types`; every other column stays
`object` so pandas never guesses (a list of ints with a None would otherwise become float64).
Blank strings count as missing: CRMs send "" for an empty field, and "" is no customer name.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Mapping, Sequence

from expectations.errors import BatchError

COLUMN_TYPES = ("integer", "decimal", "date", "text")


def build_frame(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], column_types: Mapping[str, str]
):
    """One DataFrame of all rows, `columns` in order, each cast per its declared type."""
    import pandas as pd

    data = {}
    for column in columns:
        values = [_blank_to_none(row.get(column)) for row in rows]
        kind = column_types.get(column, "text")
        try:
            data[column] = _CASTS[kind](pd, values)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise BatchError(f"column {column!r} is declared {kind}, but: {exc}") from exc
    return pd.DataFrame(data)


def columns_of_rows(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key any row has, in first-seen order (a missing key reads as None)."""
    return list(dict.fromkeys(key for row in rows for key in row))


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _integer(pd, values):
    wrong = next((v for v in values if v is not None and not _is_integer(v)), None)
    if wrong is not None:  # money arrives as int cents; a float or "150000" is a transform bug
        raise TypeError(f"{wrong!r} is a {type(wrong).__name__}, not an int")
    return pd.array(values, dtype="Int64")


def _is_integer(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _decimal(pd, values):
    return pd.array([None if value is None else float(value) for value in values], dtype="Float64")


def _date(pd, values):
    return pd.to_datetime(pd.Series(values, dtype=object), errors="raise")


def _text(pd, values):
    return pd.Series(values, dtype=object)


_CASTS = {"integer": _integer, "decimal": _decimal, "date": _date, "text": _text}
