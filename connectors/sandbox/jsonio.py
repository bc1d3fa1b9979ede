"""JSON writing that keeps money exact.

Xero serialises amounts as JSON numbers with their scale ("Total": 1150.00). The standard library
can only write floats, so Decimal values would need a float round trip; this tiny writer emits a
Decimal's own digits instead. Reading back uses `json.loads(..., parse_float=Decimal)`, so saved
state and API bodies never pass through binary floating point.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

try:  # the C accelerated string escaper, as json.dumps(ensure_ascii=False) uses
    from json.encoder import c_encode_basestring as _escape  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - pure Python fallback
    from json.encoder import py_encode_basestring as _escape  # type: ignore[attr-defined]
if _escape is None:  # pragma: no cover
    from json.encoder import py_encode_basestring as _escape  # type: ignore[attr-defined]


def dumps(value: Any) -> str:
    """Serialise `value` to compact JSON text, writing Decimals as exact JSON numbers."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def dumpb(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes, ready for an HTTP body."""
    return dumps(value).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as a Decimal."""
    return json.loads(text, parse_float=Decimal)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot serialise {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_escape(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} as JSON")
