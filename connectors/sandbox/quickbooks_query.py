"""A small, safe parser and evaluator of the QBO query language subset integrations use.

    SELECT * | COUNT(*) FROM <Entity> [WHERE <field> <op> <value> [AND ...]]
        [ORDERBY <field> [ASC|DESC][, ...]] [STARTPOSITION <n>] [MAXRESULTS <n>]

`op` is =, <, >, <=, >= or IN (<value>, ...); values are single-quoted strings (\\' escapes a
quote), numbers, true or false. QBO has no OR and no joins, and it only filters on the fields it
documents as filterable — anything else is refused with QBO's QueryValidationError (code 4001),
and text that does not parse with its QueryParserError (4000). Nothing here evaluates client text
as code: the query is tokenised, checked against a table of fields, and run as comparisons.

Assumptions where QBO's documentation is silent, kept explicit: MAXRESULTS defaults to 100 and is
capped at 1,000; name-list entities (Customer, Item, TaxCode, …) return only active records unless
the WHERE clause mentions `Active`; times compare at the one-second precision QBO writes them in;
string equality ignores case; ties in ORDERBY keep Id order.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from connectors.sandbox.quickbooks_books import QuickBooksBooks
from connectors.sandbox.quickbooks_http import QBOFault, parse_qbo_time, validation

DEFAULT_MAX = 100
MAX_RESULTS = 1000
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|"
                    r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op><=|>=|=|<|>)|(?P<punct>[(),*]))")
_COMMON = {"Id": "id", "MetaData.CreateTime": "datetime", "MetaData.LastUpdatedTime": "datetime"}
FILTERABLE: dict[str, dict[str, str]] = {
    "Customer": {"DisplayName": "string", "GivenName": "string", "FamilyName": "string",
                 "CompanyName": "string", "FullyQualifiedName": "string",
                 "PrimaryEmailAddr": "email", "Active": "bool", "Balance": "decimal"},
    "Invoice": {"DocNumber": "string", "TxnDate": "date", "DueDate": "date", "CustomerRef": "ref",
                "Balance": "decimal", "TotalAmt": "decimal"},
    "Payment": {"TxnDate": "date", "CustomerRef": "ref", "TotalAmt": "decimal"},
    "CreditMemo": {"DocNumber": "string", "TxnDate": "date", "CustomerRef": "ref",
                   "Balance": "decimal", "TotalAmt": "decimal"},
    "TaxCode": {"Name": "string", "Active": "bool"},
    "TaxRate": {"Name": "string", "Active": "bool"},
    "Item": {"Name": "string", "Active": "bool", "Type": "string", "Sku": "string"},
    "Term": {"Name": "string", "Active": "bool"},
    "Account": {"Name": "string", "Active": "bool", "AccountType": "string"},
    "CompanyCurrency": {"Code": "string", "Name": "string", "Active": "bool"},
    "CompanyInfo": {}, "Preferences": {},
}
NAME_LISTS = frozenset({"Customer", "Item", "TaxCode", "TaxRate", "Term", "Account", "CompanyCurrency"})


def parse_error(detail: str) -> QBOFault:
    return validation("4000", "Error parsing query", f"QueryParserError: {detail}")


def invalid_query(detail: str) -> QBOFault:
    return validation("4001", "Invalid query", f"QueryValidationError: {detail}")


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[tuple[str, str, list[Any]]] = field(default_factory=list)  # (field, op, values)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        position, text = 0, text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                raise parse_error(f"Encountered \"{text[position:position + 12]}\" at column {position + 1}")
            kind = match.lastgroup or ""
            self.items.append((kind, match.group(kind)))
            position = match.end()
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise parse_error("unexpected end of the query")
        self.at += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token and token[0] == "name" and token[1].upper() in words:
            self.at += 1
            return token[1].upper()
        return None

    def expect(self, value: str) -> None:
        kind, text = self.take()
        if text.upper() != value:
            raise parse_error(f"Encountered \"{text}\", expected \"{value}\"")


def parse(text: str) -> Query:
    tokens = _Tokens(text or "")
    tokens.expect("SELECT")
    count = False
    if tokens.keyword("COUNT"):
        tokens.expect("(")
        tokens.expect("*")
        tokens.expect(")")
        count = True
    else:
        tokens.expect("*")
    tokens.expect("FROM")
    kind, name = tokens.take()
    entity = next((e for e in FILTERABLE if e.lower() == name.lower()), None)
    if kind != "name" or entity is None:
        raise invalid_query(f"Entity {name} is not supported")
    query = Query(entity, count)
    if tokens.keyword("WHERE"):
        while True:
            query.where.append(_condition(tokens, entity))
            if not tokens.keyword("AND"):
                break
    if tokens.keyword("ORDERBY", "ORDER"):
        tokens.keyword("BY")
        while True:
            kind, name = tokens.take()
            query.order.append((_field(entity, name), tokens.keyword("DESC", "ASC") == "DESC"))
            if not (tokens.peek() and tokens.peek()[1] == ","):
                break
            tokens.take()
    for keyword in ("STARTPOSITION", "MAXRESULTS"):
        if tokens.keyword(keyword):
            kind, value = tokens.take()
            if kind != "num" or "." in value or int(value) < 0:
                raise parse_error(f"{keyword} needs a whole number, got {value}")
            if keyword == "STARTPOSITION":
                query.start = max(1, int(value))
            else:
                query.max_results = min(MAX_RESULTS, int(value))
    if tokens.peek() is not None:
        raise parse_error(f"Encountered \"{tokens.peek()[1]}\" after the end of the query")
    return query


def _field(entity: str, name: str) -> str:
    known = {**_COMMON, **FILTERABLE[entity]}
    found = next((f for f in known if f.lower() == name.lower()), None)
    if found is None:
        raise invalid_query(f"property '{name}' is not queryable for {entity}")
    return found


def _literal(tokens: _Tokens) -> Any:
    kind, text = tokens.take()
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "num":
        return text
    if kind == "name" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise parse_error(f"Encountered \"{text}\", expected a value")


def _condition(tokens: _Tokens, entity: str) -> tuple[str, str, list[Any]]:
    kind, name = tokens.take()
    if kind != "name":
        raise parse_error(f"Encountered \"{name}\", expected a property name")
    name = _field(entity, name)
    if tokens.keyword("IN"):
        tokens.expect("(")
        values = [_literal(tokens)]
        while tokens.peek() and tokens.peek()[1] == ",":
            tokens.take()
            values.append(_literal(tokens))
        tokens.expect(")")
        return name, "IN", values
    if tokens.keyword("OR", "LIKE"):
        raise parse_error(f"operator after {name} is not supported")
    kind, op = tokens.take()
    if kind != "op":
        raise parse_error(f"Encountered \"{op}\", expected an operator after {name}")
    return name, op, [_literal(tokens)]


# ---- evaluation -------------------------------------------------------------------------------
def _kind(entity: str, name: str) -> str:
    return {**_COMMON, **FILTERABLE[entity]}[name]


def _value(books: QuickBooksBooks, entity: str, record: dict[str, Any], name: str) -> Any:
    kind = _kind(entity, name)
    if name == "MetaData.LastUpdatedTime":
        return record["_updated_ms"] // 1000
    if name == "MetaData.CreateTime":
        return record.get("_created_ms", record["_updated_ms"]) // 1000
    if name == "Balance" and entity == "Customer":
        return books.customer_balance(record["Id"])
    raw = record.get(name)
    if kind == "ref":
        raw = (raw or {}).get("value")
    elif kind == "email":
        raw = (raw or {}).get("Address")
    return _normal(kind, raw)


def _normal(kind: str, raw: Any) -> Any:
    if raw is None:
        return None
    if kind in ("id", "ref"):
        text = str(raw).strip()
        return (0, int(text), "") if text.isdigit() else (1, 0, text)
    if kind in ("string", "email"):
        return str(raw).casefold()
    if kind == "decimal":
        return Decimal(str(raw))
    if kind == "bool":
        return raw if isinstance(raw, bool) else str(raw).lower() == "true"
    return raw


def _coerce(kind: str, name: str, value: Any) -> Any:
    try:
        if kind == "datetime":
            return parse_qbo_time(str(value)) // 1000
        if kind == "date":
            return date.fromisoformat(str(value)[:10]).isoformat()
        return _normal(kind, value)
    except (ValueError, InvalidOperation):
        raise invalid_query(f"{value!r} is not a valid value for {name}") from None


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def run(books: QuickBooksBooks, text: str) -> dict[str, Any]:
    """The QueryResponse body for a query (raises QBOFault for a bad one)."""
    query = parse(text)
    entity = query.entity
    checks = [(name, op, [_coerce(_kind(entity, name), name, v) for v in values])
              for name, op, values in query.where]
    if entity in NAME_LISTS and not any(name == "Active" for name, _, _ in checks):
        checks.append(("Active", "=", [True]))
    now_ms = time.time() * 1000

    def keep(record: dict[str, Any]) -> bool:
        if not books.queryable(record, now_ms):
            return False
        for name, op, values in checks:
            value = _value(books, entity, record, name)
            if name == "Active" and value is None:
                value = True
            if value is None:
                return False
            if op == "IN":
                if value not in values:
                    return False
            elif not _OPS[op](value, values[0]):
                return False
        return True

    rows = sorted((r for r in books.all(entity) if keep(r)), key=lambda r: _normal("id", r["Id"]))
    if query.count:
        return {"totalCount": len(rows)}
    for name, descending in reversed(query.order):
        rows.sort(key=lambda r: _sort_key(_value(books, entity, r, name)), reverse=descending)
    chosen = rows[query.start - 1: query.start - 1 + query.max_results]
    if not chosen:
        return {}
    return {entity: [books.render(entity, r) for r in chosen], "startPosition": query.start,
            "maxResults": len(chosen)}


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)
