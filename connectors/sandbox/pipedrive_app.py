"""The emulated Pipedrive API v2 (deals, organizations, persons, products, deal products, fields).

Every API route runs through the shared gateway (token auth, burst and daily token budgets,
faults, stats); each route's token cost is the `x-token-cost` of its operation in the official
spec, looked up when the app is built, so a route the spec does not know cannot be added by
mistake. List routes share one implementation: filters, sort order and keyset cursors as
`pipedrive_query` describes.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.control import control_routes
from connectors.sandbox.pipedrive_http import (PipedriveError, PipedriveGateway, page_reply,
                                               path_id, pipedrive_handler, read_body, reply)
from connectors.sandbox.pipedrive_limits import daily_token_budget, load_token_costs
from connectors.sandbox.pipedrive_query import ListParams, QueryError, page, parse_ids
from connectors.sandbox.pipedrive_schema import DEAL_STATUSES, FIELD_PATHS, SINGULAR
from connectors.sandbox.pipedrive_state import EntityStore, PipedriveState, Record
from connectors.sandbox.pipedrive_writes import check_patch

V2 = "/api/v2"
SORTS = {"deals": ("id", "update_time", "add_time"), "organizations": ("id", "update_time", "add_time"),
         "persons": ("id", "update_time", "add_time"),
         "products": ("id", "name", "add_time", "update_time")}
DEAL_PRODUCT_SORTS = ("id", "deal_id", "add_time", "update_time", "order_nr")
EQUALITY_FILTERS = {"deals": ("owner_id", "person_id", "org_id", "pipeline_id", "stage_id"),
                    "organizations": ("owner_id",), "persons": ("owner_id", "org_id"),
                    "products": ("owner_id",)}
MAX_CUSTOM_FIELD_KEYS = 15


def _sort_key(record: Record, sort_by: str) -> Any:
    if sort_by == "update_time":
        return record.update_ms
    if sort_by == "add_time":
        return record.add_ms
    if sort_by == "id":
        return record.id
    value = record.data.get(sort_by)
    return "" if value is None else value


def _equality_filters(request: Request, entity: str) -> dict[str, int]:
    found = {}
    for name in EQUALITY_FILTERS.get(entity, ()):
        raw = request.query_params.get(name)
        if raw is not None:
            try:
                found[name] = int(raw)
            except ValueError:
                raise QueryError(f"{name} must be an integer") from None
    return found


class PipedriveRoutes:
    """Handlers for /api/v2/...; each takes (request, ctx) as the gateway calls them."""

    def __init__(self, state: PipedriveState) -> None:
        self.state = state

    def _render(self, store: EntityStore, record: Record, request: Request) -> dict[str, Any]:
        body = store.render(record)
        wanted = request.query_params.get("custom_fields")
        if wanted:
            keys = [k for k in wanted.split(",") if k]
            if len(keys) > MAX_CUSTOM_FIELD_KEYS:
                raise QueryError(f"custom_fields accepts at most {MAX_CUSTOM_FIELD_KEYS} keys")
            body["custom_fields"] = {k: v for k, v in body["custom_fields"].items() if k in keys}
        return body

    def _find(self, entity: str, request: Request) -> Record:
        record = self.state.stores[entity].get(path_id(request))
        if record is None:
            raise PipedriveError(404, f"{SINGULAR[entity]} not found")
        return record

    def list_of(self, entity: str) -> Callable[..., Any]:
        statuses = DEAL_STATUSES if entity == "deals" else ()

        @pipedrive_handler
        async def handler(request: Request, ctx: Any) -> Response:
            if request.query_params.get("filter_id"):
                raise QueryError("filter_id is not supported by this sandbox")
            params = ListParams.parse(request.query_params, SORTS[entity], status_values=statuses)
            equal = _equality_filters(request, entity)
            with self.state.lock:
                store = self.state.stores[entity]
                ids, following = page(self._pairs(store, params, equal), params)
                data = [self._render(store, store.records[i], request) for i in ids]
            return page_reply(data, following)

        return handler

    @staticmethod
    def _pairs(store: EntityStore, params: ListParams, equal: dict[str, int]) -> list[tuple[Any, int]]:
        """Ascending (sort key, id) of every record the filters keep."""
        records = store.records
        if params.ids is not None:
            chosen = [records[i] for i in params.ids if i in records]
            pairs = sorted((_sort_key(r, params.sort_by), r.id) for r in chosen)
        elif params.sort_by == "update_time":
            pairs = store.index.range(params.since_ms, True, params.until_ms, False)
        else:
            pairs = store.sort_pairs(params.sort_by)
        since, until, statuses = params.since_ms, params.until_ms, params.statuses

        def keep(record: Record) -> bool:
            data = record.data
            if statuses is not None:
                if data.get("status") not in statuses:
                    return False
            elif data.get("is_deleted"):
                return False
            if since is not None and record.update_ms < since:
                return False
            if until is not None and record.update_ms >= until:
                return False
            return all(data.get(name) == value for name, value in equal.items())

        return [pair for pair in pairs if keep(records[pair[1]])]

    def get_of(self, entity: str) -> Callable[..., Any]:
        @pipedrive_handler
        async def handler(request: Request, ctx: Any) -> Response:
            with self.state.lock:
                store = self.state.stores[entity]
                return reply(self._render(store, self._find(entity, request), request))

        return handler

    def patch_of(self, entity: str) -> Callable[..., Any]:
        @pipedrive_handler
        async def handler(request: Request, ctx: Any) -> Response:
            body = await read_body(request)
            with self.state.lock:
                store = self.state.stores[entity]
                record = self._find(entity, request)
                changes, custom = check_patch(self.state, entity, record, body)
                store.apply(record, changes, custom)
                return reply(store.render(record))

        return handler

    @pipedrive_handler
    async def deal_products(self, request: Request, ctx: Any) -> Response:
        raw = request.query_params.get("deal_ids")
        if not raw:
            raise QueryError("deal_ids is required")
        deal_ids = parse_ids(raw, "deal_ids")
        params = ListParams.parse(request.query_params, DEAL_PRODUCT_SORTS)
        with self.state.lock:
            store = self.state.deal_products
            pairs = sorted((_sort_key(r, params.sort_by), r.id) for r in store.of_deals(deal_ids))
            ids, following = page(pairs, params)
            data = [store.render(store.records[i]) for i in ids]
        return page_reply(data, following)

    def fields_of(self, entity: str) -> Callable[..., Any]:
        @pipedrive_handler
        async def handler(request: Request, ctx: Any) -> Response:
            params = ListParams.parse(request.query_params, ("id",))
            with self.state.lock:
                fields = list(self.state.fields.fields[entity])
            positions, following = page([(n, n) for n in range(len(fields))], params)
            return page_reply([fields[n].describe() for n in positions], following)

        return handler


def api_routes(routes: PipedriveRoutes) -> list[tuple[str, str, Callable[..., Any], bool]]:
    """(method, path template, handler, writes) of every emulated operation."""
    table: list[tuple[str, str, Callable[..., Any], bool]] = [
        ("GET", f"{V2}/deals/products", routes.deal_products, False)]
    for entity in ("deals", "organizations", "persons", "products"):
        table += [("GET", f"{V2}/{entity}", routes.list_of(entity), False),
                  ("GET", f"{V2}/{entity}/{{id}}", routes.get_of(entity), False),
                  ("GET", f"{V2}/{FIELD_PATHS[entity]}", routes.fields_of(entity), False)]
        if entity != "products":
            table.append(("PATCH", f"{V2}/{entity}/{{id}}", routes.patch_of(entity), True))
    return table


def build_pipedrive_app(state: PipedriveState, *, burst: int = 80,
                        daily_tokens: int = daily_token_budget(3, 5), latency_s: float = 0.0,
                        token_costs: Mapping[tuple[str, str], int] | None = None) -> Starlette:
    """The app; `token_costs` defaults to the `x-token-cost`s of the official v2 spec file."""
    costs = load_token_costs() if token_costs is None else token_costs
    gateway = PipedriveGateway(state, costs, burst=burst, daily_tokens=daily_tokens,
                               latency_s=latency_s)
    table = api_routes(PipedriveRoutes(state))
    unknown = [f"{method} {path}" for method, path, _, _ in table if (method, path) not in costs]
    if unknown:
        raise ValueError(f"operations without an x-token-cost in the spec: {', '.join(unknown)}")
    routes = control_routes(stats=state.stats, faults=state.faults, settings=state.limit_settings,
                            reset_limits=gateway.limiter.reset, describe_state=state.summary)
    routes += [gateway.route(method, path, handler, write=writes)
               for method, path, handler, writes in table]
    routes.append(gateway.fallback_route())
    return Starlette(routes=routes)
