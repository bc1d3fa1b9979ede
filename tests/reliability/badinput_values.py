"""Hostile values, as a CRM or an accounting system might hand them to ledgerlink.

Vendors send text, but people type into those fields: amounts with thousands separators, dates in
their own format, e-mail addresses in the VAT field, pasted spreadsheets, emoji. An attacker types
injection strings. A buggy integration upstream sends lists, objects, booleans and floats where
text belongs. Every strategy here draws from such values; the fixed lists make sure the nasty
classics are always among them, the generated text finds what nobody listed.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from hypothesis import strategies as st

HUGE_DIGITS = "9" * 100_000  # a 100 kB "number"
HUGE_TEXT = "Karoo " * 17_000  # a 100 kB name (pasted by mistake, or on purpose)

INJECTIONS = [
    "'; DROP TABLE exception_item; --",
    "1' OR '1'='1",
    "{deal_id}", "{0}", "{__class__.__mro__}", "{value!r:>{width}}", "%s%s%s%n", "$(rm -rf /)",
    "=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "](javascript:alert(1))",
    "../../../../etc/passwd", "..\\..\\windows\\system32", "file:///etc/passwd",
    "```\n# pwned\n```", "| a | b |\n|---|---|", "\x1b[31mred\x1b[0m\x1b]0;title\x07",
]
UNICODE = [
    "\u202egnp.exe", "مؤسسة الكارو", "שלום עולם", "🧾💸🏕️", "👩‍👩‍👧‍👦", "Ka\u0301roo\u0308\u0308\u0308",
    "Z\u0336\u0334\u0335a\u0337\u0338lgo\u0489" * 3, "\u200b\u200d\ufeff", "\u2028line\u2029para",
    "Karoo\x00Outdoor", "tab\tnew\nline\rcr", "\x7f\x80\x9f", "ＡＣＭＥ", "İı", "ß", "\ud7ff\ue000\U0010ffff",
]
EMAILS = ["thandi.nkosi@karoo.example.co.za", "jane@@example", "jane.doe@example", "jäne@exämple.com",
          "a@b", "@@@", "x" * 5_000 + "@example.com", "mailto:sipho@example.co.za", "sipho @ example . com"]
TEXT_LIKE = INJECTIONS + UNICODE + EMAILS + ["", " ", "   \t ", HUGE_TEXT, "None", "null", "undefined", "NaN"]

NUMBER_LIKE = [
    "1e30", "1E+400", "-1E+400", "1E+999999", "1E-400", "-0", "0", "0.00", "-0.00", "NaN", "-NaN", "sNaN",
    "Infinity", "-Infinity", "inf", "1,000.00", "1 000,00", "1.000,00", "R 1 000", "$1000", "12 thousand",
    "0x10", "1_000", "١٢٣", "½", "1e", "--1", "+-1", "1..0", ".", "-", "12.", ".5", "  12.50  ",
    HUGE_DIGITS, "-" + HUGE_DIGITS, "0." + HUGE_DIGITS, "9" * 30, "0.000000001", "99999999999999999.99",
    "-1170.00", "-0.01",
]
DATE_LIKE = [
    "9999-12-31T23:59:59Z", "9999-12-31T23:00:00+00:00", "9999-12-20", "0001-01-01T00:00:00+05:00",
    "0001-01-01", "0000-01-01", "10000-01-01", "2026-02-30", "2026-13-01", "31/10/2026", "10/31/2026",
    "yesterday", "2026-10-31T25:00:00Z", "/Date(abc)/", "/Date()/", "/Date(99999999999999999999)/",
    "/Date(-62135596800001+0000)/", "9" * 30, HUGE_DIGITS, "-1", "1e12", "2026-10-31T22:30:00.000+99:00",
]

_ODD_CHARACTERS = st.characters(codec="utf-8", exclude_categories=["Cs"])
_ODD_TEXT = st.text(_ODD_CHARACTERS, max_size=24)
_WRONG_TYPES = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.5, 0.1 + 0.2, 1e30, float("nan"), float("inf"), -0.0]),
    st.lists(st.sampled_from(["1", "ZAR", None, 2]), max_size=3),
    st.dictionaries(st.sampled_from(["value", "id", "amount"]), st.sampled_from(["1", 2, None]), max_size=2),
    st.sampled_from([[], {}, [[]], {"value": {"value": "1"}}, b"1170.00", object]),
)
_HOSTILE_TEXT = st.one_of(st.sampled_from(TEXT_LIKE), _ODD_TEXT)
_HOSTILE_VALUE = st.one_of(
    st.sampled_from(TEXT_LIKE), st.sampled_from(NUMBER_LIKE), st.sampled_from(DATE_LIKE),
    _ODD_TEXT, _WRONG_TYPES, st.none(), st.integers(),
    st.decimals(allow_nan=True, allow_infinity=True),
)


def wrong_types() -> st.SearchStrategy:
    """Values of a JSON type no text or number field should have (and Python floats, never money)."""
    return _WRONG_TYPES


def odd_text() -> st.SearchStrategy[str]:
    """Generated text over all of Unicode (controls, format characters, RTL, combining marks)."""
    return _ODD_TEXT


def hostile_text() -> st.SearchStrategy[str]:
    return _HOSTILE_TEXT


def hostile_value() -> st.SearchStrategy:
    """Anything at all: for fields where no particular outcome is expected, only a readable one."""
    return _HOSTILE_VALUE


def _unreadable_number(text: str) -> bool:
    try:
        value = Decimal(text.strip().replace(" ", ""))
    except ArithmeticError:
        return bool(text.strip())  # blank is "missing", which is a different outcome
    return not value.is_finite()


_NOT_A_NUMBER = st.one_of(st.sampled_from([v for v in NUMBER_LIKE + TEXT_LIKE + DATE_LIKE if _unreadable_number(v)]),
                          _WRONG_TYPES, _ODD_TEXT.filter(_unreadable_number))


def not_a_number() -> st.SearchStrategy:
    """Values that are no finite number ledgerlink may read (text, floats, NaN, thousands separators)."""
    return _NOT_A_NUMBER


# ---- what the exception queue may show -----------------------------------------------------------
_LEAKED_EMAIL = re.compile(r"[^\s@*]{2}@|@[^\s@*]{2}")


def unreadable_characters(text: str) -> list[str]:
    """Characters that would break a one-line reason: controls, format and line/paragraph separators."""
    return [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")]


def readable_problem(text: str, limit: int) -> str | None:
    """Why `text` is not a readable one-line reason (None when it is)."""
    if not isinstance(text, str) or not text.strip():
        return "empty or not text"
    if len(text) > limit:
        return f"{len(text)} characters long (limit {limit})"
    if unreadable_characters(text):
        return f"contains {unreadable_characters(text)[:3]!r}"
    return None


def leaked_email(text: str) -> str | None:
    """An e-mail address (two characters either side of an @) left unmasked in `text`."""
    found = _LEAKED_EMAIL.search(text)
    return None if found is None else text[max(found.start() - 10, 0):found.end() + 10]
