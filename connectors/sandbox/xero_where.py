"""A small, safe parser for Xero's `where` query parameter — no eval.

Covers what Xero clients actually send: `Status=="AUTHORISED"`, `Name!="X"`,
`Contact.ContactID==guid("…")`, `IsCustomer==true`, `AmountDue>=100.50`,
`Date>=DateTime(2024,01,31)`, `Name.Contains("Karoo")` / `.StartsWith` / `.EndsWith`
(with optional `.ToLower()`/`.ToUpper()`), `== null`, joined by AND/OR/&&/|| with parentheses and
`!`. String comparisons are case-insensitive as Xero's are. Anything else is refused with a
readable message (Xero answers 400 QueryParseException).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from connectors.sandbox.timeutil import day_ms, parse_iso

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


class WhereError(ValueError):
    """The where clause cannot be parsed or names an unknown field."""


@dataclass(frozen=True)
class Field:
    kind: str                              # string | guid | number | bool | date | datetime
    get: Callable[[Record], Any]           # record -> raw value (None when unset)


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>==|!=|>=|<=|&&|\|\||[<>=!().,])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)

_COMPARE = {"==": lambda a, b: a == b, "=": lambda a, b: a == b, "!=": lambda a, b: a != b,
            ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise WhereError(f"Unexpected character at position {position}: {text[position:position + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, fields: dict[str, Field], resource: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.fields = {name.lower(): (name, f) for name, f in fields.items()}
        self.resource = resource

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise WhereError("Unexpected end of the where clause")
        if expected is not None and token[1].upper() != expected.upper():
            raise WhereError(f"Expected {expected!r} but found {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise WhereError(f"Unexpected {self.peek()[1]!r} in the where clause")  # type: ignore[index]
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while (t := self.peek()) and t[1].upper() in ("OR", "||"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while (t := self.peek()) and t[1].upper() in ("AND", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        token = self.peek()
        if token and token[1] == "!":
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if token and token[1] == "(":
            self.take()
            inner = self.or_expr()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind != "name":
            raise WhereError(f"Expected a field name but found {name!r}")
        path = [name]
        method = None
        while (t := self.peek()) and t[1] == ".":
            self.take()
            part = self.take()[1]
            if part in ("ToLower", "ToUpper", "Trim"):
                self.take("(")
                self.take(")")
                continue
            if part in ("Contains", "StartsWith", "EndsWith"):
                self.take("(")
                argument = self.literal()
                self.take(")")
                method = (part, argument)
                break
            path.append(part)
        field = self.field(".".join(path))
        if method is not None:
            return self._method(field, *method)
        token = self.peek()
        if token is None or token[1] not in _COMPARE:
            if field.kind == "bool":
                return lambda r: bool(field.get(r))
            raise WhereError(f"Expected a comparison after {'.'.join(path)}")
        operator = self.take()[1]
        value = self.literal()
        return self._compare(field, operator, value)

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return ("str", re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "number":
            return ("num", Decimal(text))
        if kind != "name":
            raise WhereError(f"Expected a value but found {text!r}")
        lowered = text.lower()
        if lowered in ("true", "false"):
            return ("bool", lowered == "true")
        if lowered == "null":
            return ("null", None)
        if lowered == "guid":
            self.take("(")
            inner = self.literal()
            self.take(")")
            return ("guid", str(inner[1]).lower())
        if lowered == "datetime":
            if (t := self.peek()) and t[1] == ".":
                self.take()
                self.take("Parse")
                self.take("(")
                inner = self.literal()
                self.take(")")
                return ("time", parse_iso(str(inner[1])))
            self.take("(")
            numbers = [int(self.take()[1])]
            while (t := self.peek()) and t[1] == ",":
                self.take()
                numbers.append(int(self.take()[1]))
            self.take(")")
            if len(numbers) not in (3, 6):
                raise WhereError("DateTime(...) takes year, month, day [, hour, minute, second]")
            try:
                moment = datetime(*numbers, tzinfo=timezone.utc)  # type: ignore[misc]
            except ValueError as error:
                raise WhereError(f"Invalid DateTime: {error}") from None
            return ("time", int(moment.timestamp() * 1000))
        raise WhereError(f"Unknown value {text!r}; quote strings, e.g. \"{text}\"")

    def field(self, dotted: str) -> Field:
        found = self.fields.get(dotted.lower())
        if found is None:
            raise WhereError(f"No property or field '{dotted}' exists in type '{self.resource}'")
        return found[1]

    def _method(self, field: Field, method: str, argument: Any) -> Predicate:
        needle = str(argument[1]).lower()
        test = {"Contains": lambda v: needle in v, "StartsWith": lambda v: v.startswith(needle),
                "EndsWith": lambda v: v.endswith(needle)}[method]
        return lambda r: (v := field.get(r)) is not None and test(str(v).lower())

    def _compare(self, field: Field, operator: str, literal: Any) -> Predicate:
        compare = _COMPARE[operator]
        tag, raw = literal
        if tag == "null":
            if operator not in ("==", "=", "!="):
                raise WhereError("null can only be compared with == or !=")
            wants_null = operator != "!="
            return lambda r: (field.get(r) is None) == wants_null
        target = _coerce(field.kind, tag, raw)
        normalise = _normaliser(field.kind)

        def predicate(record: Record) -> bool:
            value = field.get(record)
            if value is None:
                return operator == "!="
            try:
                return compare(normalise(value), target)
            except TypeError:
                return False

        return predicate


def _normaliser(kind: str) -> Callable[[Any], Any]:
    if kind in ("string", "guid"):
        return lambda v: str(v).lower()
    if kind == "number":
        return lambda v: Decimal(str(v))
    if kind == "date":
        return lambda v: day_ms(v) if isinstance(v, str) else v
    return lambda v: v


def _coerce(kind: str, tag: str, raw: Any) -> Any:
    try:
        if kind in ("string", "guid"):
            return str(raw).lower()
        if kind == "number":
            return Decimal(str(raw))
        if kind == "bool":
            if tag == "bool":
                return raw
            return str(raw).lower() == "true"
        if kind in ("date", "datetime"):
            if tag == "time":
                return raw
            if tag == "str":
                return parse_iso(raw)
    except (InvalidOperation, ValueError):
        pass
    raise WhereError(f"Value {raw!r} cannot be compared with a {kind} field")


def compile_where(text: str, fields: dict[str, Field], resource: str) -> Predicate:
    """Compile a where clause against a resource's field table."""
    if not text or not text.strip():
        return lambda r: True
    return _Parser(text, fields, resource).parse()
