"""POST /crm/v3/objects/{type}/search, as HubSpot answers it.

Semantics kept: filterGroups are OR-ed, filters within a group AND-ed; values compare by the
property's type (numbers numerically, datetimes as epoch ms — filter values may be epoch-ms
strings or ISO-8601); one sort, ties broken by id ascending; `after` is an offset; `total` counts
every match; paging past the 10,000th result answers 400 — the hard cap that breaks naive
full syncs on real portals.

Speed: a filter or sort on the modified-date property (the delta-sync query) is answered from the
store's (modified, id) index by binary search; results are cached per store version, so paging
through one result set is O(page) until a write changes it.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from connectors.sandbox.hubspot_state import CrmObject, ObjectStore
from connectors.sandbox.timeutil import parse_epoch_or_iso

MAX_LIMIT = 200
RESULT_CAP = 10_000
MAX_GROUPS = 6
MAX_FILTERS = 18
_INDEXED_TIME = {"hs_lastmodifieddate", "lastmodifieddate"}


class SearchError(ValueError):
    """A request HubSpot would refuse with 400 VALIDATION_ERROR."""


Getter = Callable[[CrmObject], Any]
Predicate = Callable[[CrmObject], bool]


def typed_getter(store: ObjectStore, name: str) -> Getter:
    """obj -> comparable value of a property (None when unset)."""
    if name == "hs_object_id":
        return lambda o: o.id
    if name in _INDEXED_TIME:
        return lambda o: o.modified_ms
    if name == "createdate":
        return lambda o: o.created_ms
    kind = store.type.properties[name].type
    if kind in ("string", "enumeration", "bool"):       # the hot path: plain string compare
        def text(o: CrmObject) -> Any:
            raw = o.props.get(name)
            return raw.lower() if raw else None
        return text

    def convert(o: CrmObject) -> Any:
        raw = o.props.get(name)
        if raw is None or raw == "":
            return None
        return _convert(kind, raw)

    return convert


def _kind(store: ObjectStore, name: str) -> str:
    if name == "hs_object_id":
        return "number"
    return store.type.properties[name].type


def _convert(kind: str, raw: Any) -> Any:
    """A stored or filter value in comparable form; None when it does not parse."""
    try:
        if kind == "number":
            return Decimal(str(raw))
        if kind in ("datetime", "date"):
            return parse_epoch_or_iso(str(raw))
    except (InvalidOperation, ValueError):
        return None
    return str(raw).lower()


def _filter_value(store: ObjectStore, name: str, raw: Any) -> Any:
    if name == "hs_object_id":
        try:
            return int(str(raw))
        except ValueError:
            raise SearchError(f"{raw!r} is not a valid object id for hs_object_id") from None
    value = _convert(_kind(store, name), raw)
    if value is None:
        raise SearchError(f"{raw!r} is not a valid value for property {name}")
    return value


def compile_filter(store: ObjectStore, spec: dict[str, Any]) -> Predicate:
    name = spec.get("propertyName")
    operator = str(spec.get("operator", "EQ")).upper()
    if not name or (name not in store.type.properties):
        raise SearchError(f"Property '{name}' does not exist on {store.type.name}")
    get = typed_getter(store, name)
    if operator == "HAS_PROPERTY":
        return lambda o: get(o) is not None
    if operator == "NOT_HAS_PROPERTY":
        return lambda o: get(o) is None
    if operator in ("IN", "NOT_IN"):
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise SearchError(f"operator {operator} needs a non-empty 'values' list")
        wanted = {_filter_value(store, name, v) for v in values}
        if operator == "IN":
            return lambda o: get(o) in wanted
        return lambda o: get(o) not in wanted
    if "value" not in spec or spec["value"] is None:
        raise SearchError(f"operator {operator} on {name} needs a 'value'")
    value = _filter_value(store, name, spec["value"])
    if operator == "EQ":
        return lambda o: get(o) == value
    if operator == "NEQ":
        return lambda o: get(o) != value
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(value).strip("*")
        hit = lambda o: (v := get(o)) is not None and token in str(v)  # noqa: E731
        return hit if operator == "CONTAINS_TOKEN" else (lambda o: not hit(o))
    if operator == "BETWEEN":
        high = _filter_value(store, name, spec.get("highValue"))
        return lambda o: (v := get(o)) is not None and value <= v <= high
    compare = {"GT": lambda a: a > value, "GTE": lambda a: a >= value,
               "LT": lambda a: a < value, "LTE": lambda a: a <= value}.get(operator)
    if compare is None:
        raise SearchError(f"Unsupported operator {operator!r}")
    return lambda o: (v := get(o)) is not None and compare(v)


def _time_bounds(store: ObjectStore, filters: list[dict[str, Any]]
                 ) -> tuple[tuple[int | None, bool, int | None, bool], set[int]]:
    """Bounds on the modified stamp implied by one group's filters, and which filters they cover."""
    lo, lo_inc, hi, hi_inc = None, True, None, True
    covered: set[int] = set()
    for position, spec in enumerate(filters):
        if spec.get("propertyName") not in _INDEXED_TIME:
            continue
        op = str(spec.get("operator", "")).upper()
        if op not in ("GT", "GTE", "LT", "LTE", "EQ", "BETWEEN"):
            continue
        try:
            value = parse_epoch_or_iso(spec.get("value"))  # type: ignore[arg-type]
            high = parse_epoch_or_iso(spec["highValue"]) if op == "BETWEEN" else None
        except (ValueError, TypeError, KeyError):
            continue
        covered.add(position)
        if op in ("GT", "GTE", "EQ", "BETWEEN") and (lo is None or value > lo or (value == lo and op == "GT")):
            lo, lo_inc = value, op != "GT"
        if op in ("LT", "LTE", "EQ") and (hi is None or value < hi or (value == hi and op == "LT")):
            hi, hi_inc = value, op != "LT"
        if op == "BETWEEN" and high is not None and (hi is None or high < hi):
            hi, hi_inc = high, True
    return (lo, lo_inc, hi, hi_inc), covered


def _all_of(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda o: True
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda o: first(o) and second(o)
    return lambda o: all(p(o) for p in predicates)


def _parse_sort(store: ObjectStore, sorts: Any) -> tuple[str, bool]:
    """(property, descending). Accepts the documented object form and the string form."""
    if not sorts:
        return "hs_object_id", False
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise SearchError("Only one sort is supported per search request")
    item = sorts[0]
    if isinstance(item, str):
        descending = item.startswith("-")
        name = item.lstrip("-")
    elif isinstance(item, dict):
        name = item.get("propertyName", "")
        descending = str(item.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise SearchError("sorts must hold a property name or {propertyName, direction}")
    if name not in store.type.properties:
        raise SearchError(f"Cannot sort by '{name}': property does not exist on {store.type.name}")
    return name, descending


def _sort_key_ascending(get: Getter) -> Callable[[CrmObject], tuple]:
    def key(obj: CrmObject) -> tuple:
        value = get(obj)
        return (1, 0) if value is None else (0, value)   # unset values last
    return key


def _sort_key_descending(get: Getter) -> Callable[[CrmObject], tuple]:
    def key(obj: CrmObject) -> tuple:
        value = get(obj)
        return (-1, 0) if value is None else (0, value)  # used with reverse=True: unset last
    return key


def _matching_ids(store: ObjectStore, groups: list[dict[str, Any]], sort: tuple[str, bool],
                  query: str) -> list[int]:
    """Ids of every match, in result order (sort property, then id ascending)."""
    name, descending = sort
    objects = store.objects
    bounds, covered = _time_bounds(store, groups[0].get("filters") or []) if len(groups) == 1 \
        else ((None, True, None, True), set())
    use_index = name in _INDEXED_TIME or bounds[0] is not None or bounds[2] is not None
    if not use_index:
        covered = set()
    # filters the index range already guarantees are not evaluated again
    residual = [[compile_filter(store, f) for n, f in enumerate(g.get("filters") or []) if n not in covered]
                for g in groups]
    if use_index and name in _INDEXED_TIME and not descending and not query and not any(residual):
        return [i for _, i in store.index.range(*bounds)]  # the whole answer is an index slice
    groups_of = [_all_of(group) for group in residual] or [lambda o: True]
    matches = groups_of[0] if len(groups_of) == 1 else (lambda o: any(g(o) for g in groups_of))
    text_match = _text_predicate(store, query)
    keep = matches if text_match is None else (lambda o: text_match(o) and matches(o))
    if use_index:                                         # the index holds live records only
        hits = [o for o in (objects[i] for _, i in store.index.range(*bounds)) if keep(o)]
        if name in _INDEXED_TIME:                         # index order is (modified, id) already
            if descending:
                hits.sort(key=lambda o: (-o.modified_ms, o.id))
            return [o.id for o in hits]
        hits.sort(key=lambda o: o.id)
    else:
        hits = [o for o in objects.values() if not o.archived and keep(o)]  # dict is in id order
    if name == "hs_object_id":
        return [o.id for o in (reversed(hits) if descending else hits)]
    get = typed_getter(store, name)
    if descending:
        hits.sort(key=_sort_key_descending(get), reverse=True)  # stable: ids stay ascending
    else:
        hits.sort(key=_sort_key_ascending(get))
    return [o.id for o in hits]


def _text_predicate(store: ObjectStore, query: str) -> Predicate | None:
    if not query:
        return None
    needle = query.lower()
    fields = store.type.searchable
    return lambda o: any(needle in (o.props.get(f) or "").lower() for f in fields)


def run_search(store: ObjectStore, body: dict[str, Any]) -> dict[str, Any]:
    """The CollectionResponseWithTotalSimplePublicObject for one search request."""
    if not isinstance(body, dict):
        raise SearchError("The search request must be a JSON object")
    limit = body.get("limit", 10)
    try:
        limit = int(limit if limit is not None else 10)
    except (TypeError, ValueError):
        raise SearchError(f"limit must be an integer, got {limit!r}") from None
    if limit > MAX_LIMIT:
        raise SearchError(f"limit must be at most {MAX_LIMIT}; got {limit}")
    if limit < 0:
        raise SearchError(f"limit must not be negative; got {limit}")
    after_raw = body.get("after") or "0"
    try:
        after = int(str(after_raw))
    except ValueError:
        raise SearchError(f"after must be a paging token returned by a previous page, got {after_raw!r}") from None
    if after >= RESULT_CAP:
        raise SearchError(f"Search results are limited to {RESULT_CAP} per query; after={after} "
                          f"is past that. Narrow the filters (e.g. a later hs_lastmodifieddate or "
                          f"hs_object_id GT the last id) and search again.")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise SearchError(f"filterGroups must be a list of at most {MAX_GROUPS} groups")
    if sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
        raise SearchError(f"At most {MAX_FILTERS} filters are allowed across all filterGroups")
    sort = _parse_sort(store, body.get("sorts"))
    query = str(body.get("query") or "")
    key = json.dumps([groups, sort, query], sort_keys=True, default=str)
    ids = store.cache.get_or_compute(key, store.version, lambda: _matching_ids(store, groups, sort, query))
    requested = body.get("properties") or None
    page = ids[after: after + limit]
    results = [store.render(store.objects[i], requested) for i in page]
    reply: dict[str, Any] = {"total": len(ids), "results": results}
    if limit and after + limit < len(ids):      # limit 0 asks for the total only
        reply["paging"] = {"next": {"after": str(after + limit)}}
    return reply
