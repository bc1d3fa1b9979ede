"""The emulated HubSpot CRM API (objects v3, properties v3) as a Starlette app.

Paths accept an object type by name or by id (`deals` or `0-3`, as the official spec writes it).
Every route runs through the shared gateway (auth, limits, faults, stats); association routes
live in hubspot_associations.py.
"""

from __future__ import annotations

import bisect
import functools
import json
from typing import Any, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.control import control_routes
from connectors.sandbox.gateway import json_response
from connectors.sandbox.hubspot_associations import association_routes
from connectors.sandbox.hubspot_http import (
    HubSpotError, HubSpotGateway, batch_inputs, batch_reply, hubspot_error, object_type,
    property_list, read_json, reject_duplicates, standard_error)
from connectors.sandbox.hubspot_schema import type_id_is_primary
from connectors.sandbox.hubspot_search import SearchError, run_search
from connectors.sandbox.hubspot_state import CrmObject, HubSpotState, ItemError, ObjectStore
from connectors.sandbox.timeutil import iso_ms, wall_ms

LIST_LIMIT = 100
OBJECTS = "/crm/v3/objects/{objectType}"


def hubspot_handler(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Turn HubSpotError / SearchError raised in a handler (function or method) into HubSpot's
    error body."""

    @functools.wraps(fn)
    async def wrapper(*args: Any) -> Response:
        try:
            return await fn(*args)
        except HubSpotError as error:
            return hubspot_error(error.status, error.message, error.category, **error.extra)
        except SearchError as error:
            return hubspot_error(400, str(error), "VALIDATION_ERROR")

    return wrapper


class HubSpotObjectRoutes:
    """Handlers for /crm/v3/objects/... and /crm/v3/properties/..."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state

    def store(self, request: Request) -> ObjectStore:
        return self.state.stores[object_type(request.path_params["objectType"]).name]

    @hubspot_handler
    async def search(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        body = await read_json(request)
        with self.state.lock:
            return json_response(run_search(store, body))

    @hubspot_handler
    async def batch_read(self, request: Request, ctx: Any) -> Response:
        store, started = self.store(request), iso_ms(wall_ms())
        body = await read_json(request)
        inputs = batch_inputs(body)
        id_property = body.get("idProperty")
        keys = [str(item.get("id", "")) for item in inputs]
        reject_duplicates(keys)
        requested = body.get("properties") or None
        results, missing = [], []
        with self.state.lock:
            for key in keys:
                obj = store.find(key, id_property)
                if obj is None:
                    missing.append(key)
                else:
                    results.append(store.render(obj, requested))
        errors = []
        if missing:
            errors.append(standard_error(ItemError(
                "OBJECT_NOT_FOUND", f"Could not get some {store.type.singular.upper()} objects, they "
                                    f"may be deleted or not exist. Check that ids are valid.",
                context={"ids": missing})))
        return batch_reply(results, errors, started)

    @hubspot_handler
    async def batch_update(self, request: Request, ctx: Any) -> Response:
        store, started = self.store(request), iso_ms(wall_ms())
        body = await read_json(request)
        inputs = batch_inputs(body)
        keys = [str(item.get("id", "")) for item in inputs]
        reject_duplicates(keys)
        results, errors, missing = [], [], []
        with self.state.lock:
            for key, item in zip(keys, inputs):
                obj = store.find(key, item.get("idProperty") or body.get("idProperty"))
                if obj is None:
                    missing.append(key)
                    continue
                clean, problems = store.check(item.get("properties") or {}, obj)
                if problems:
                    errors.extend(_item_errors(problems, key))
                    continue
                store.update(obj, clean)
                results.append(store.render(obj, list(clean)))
        if missing:
            errors.insert(0, standard_error(ItemError(
                "OBJECT_NOT_FOUND", f"Could not update some {store.type.singular.upper()} objects, "
                                    f"they may be deleted or not exist. Check that ids are valid.",
                context={"ids": missing})))
        return batch_reply(results, errors, started)

    @hubspot_handler
    async def batch_create(self, request: Request, ctx: Any) -> Response:
        store, started = self.store(request), iso_ms(wall_ms())
        inputs = batch_inputs(await read_json(request))
        results, errors = [], []
        with self.state.lock:
            for position, item in enumerate(inputs):
                clean, problems = store.check(item.get("properties") or {})
                links, link_problems = self._parse_associations(store, item.get("associations") or [])
                if problems or link_problems:
                    errors.extend(_item_errors(problems + link_problems, str(position), "inputs"))
                    continue
                obj = store.create(clean)
                self._link(store, obj, links)
                results.append(store.render(obj, list(clean)))
        return batch_reply(results, errors, started, ok_status=201)

    @hubspot_handler
    async def batch_upsert(self, request: Request, ctx: Any) -> Response:
        store, started = self.store(request), iso_ms(wall_ms())
        inputs = batch_inputs(await read_json(request))
        results, errors = [], []
        with self.state.lock:
            for item in inputs:
                key, id_property = str(item.get("id", "")), item.get("idProperty")
                if not id_property or id_property not in store.unique:
                    raise HubSpotError(400, f"idProperty must name a unique-value property of "
                                            f"{store.type.name}, got {id_property!r}")
                props = dict(item.get("properties") or {})
                existing = store.find(key, id_property)
                if existing is None:
                    props[id_property] = key
                clean, problems = store.check(props, existing)
                if problems:
                    errors.extend(_item_errors(problems, key))
                    continue
                if existing is None:
                    obj, new = store.create(clean), True
                else:
                    store.update(existing, clean)
                    obj, new = existing, False
                results.append({**store.render(obj, list(clean)), "new": new})
        return batch_reply(results, errors, started)

    @hubspot_handler
    async def list_page(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        try:
            limit = min(LIST_LIMIT, max(1, int(request.query_params.get("limit", "10"))))
            after = int(request.query_params.get("after") or 0)
        except ValueError:
            raise HubSpotError(400, "limit and after must be integers") from None
        requested = property_list(request)
        with self.state.lock:
            page: list[CrmObject] = []
            position = bisect.bisect_left(store.ids, after)
            while position < len(store.ids) and len(page) <= limit:   # one extra: is there more?
                obj = store.objects[store.ids[position]]
                if not obj.archived:
                    page.append(obj)
                position += 1
            reply: dict[str, Any] = {"results": [store.render(o, requested) for o in page[:limit]]}
            if len(page) > limit:
                nxt = str(page[limit].id)
                reply["paging"] = {"next": {"after": nxt, "link": f"{request.url.path}?after={nxt}"}}
        return json_response(reply)

    @hubspot_handler
    async def get_one(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        with self.state.lock:
            obj = self._find_or_404(store, request)
            body = store.render(obj, property_list(request))
            wanted = property_list(request, "associations") or []
            if wanted:
                body["associations"] = self._v3_associations(store, obj, wanted)
        return json_response(body)

    @hubspot_handler
    async def patch_one(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        body = await read_json(request)
        with self.state.lock:
            obj = self._find_or_404(store, request)
            clean, problems = store.check((body or {}).get("properties") or {}, obj)
            if problems:
                raise _validation(problems)
            store.update(obj, clean)
            return json_response(store.render(obj, list(clean)))

    @hubspot_handler
    async def create_one(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        body = await read_json(request)
        with self.state.lock:
            clean, problems = store.check((body or {}).get("properties") or {})
            links, link_problems = self._parse_associations(store, (body or {}).get("associations") or [])
            if problems or link_problems:
                raise _validation(problems + link_problems)
            obj = store.create(clean)
            self._link(store, obj, links)
            return json_response(store.render(obj, list(clean)), 201)

    @hubspot_handler
    async def archive_one(self, request: Request, ctx: Any) -> Response:
        store = self.store(request)
        with self.state.lock:
            store.archive(self._find_or_404(store, request))
        return Response(status_code=204)

    @hubspot_handler
    async def properties(self, request: Request, ctx: Any) -> Response:
        otype = object_type(request.path_params["objectType"])
        return json_response({"results": [p.describe(otype.singular) for p in otype.properties.values()]})

    # ---- helpers ------------------------------------------------------------------------
    def _find_or_404(self, store: ObjectStore, request: Request) -> CrmObject:
        key = request.path_params["objectId"]
        obj = store.find(key, request.query_params.get("idProperty"))
        if obj is None:
            raise HubSpotError(404, "Object not found.  objectId are usually numeric.",
                               "OBJECT_NOT_FOUND", context={"id": [key]})
        return obj

    def _parse_associations(self, store: ObjectStore, specs: list[Any]
                            ) -> tuple[list[tuple[str, int, bool]], list[ItemError]]:
        """`associations` of a create input: [{"to": {"id"}, "types": [{associationTypeId}]}]."""
        links, problems = [], []
        for spec in specs:
            try:
                to_id = int(str(spec["to"]["id"]))
                type_ids = [int(t["associationTypeId"]) for t in spec.get("types") or []]
            except (KeyError, TypeError, ValueError):
                problems.append(ItemError("VALIDATION_ERROR", "each association needs to.id and types"))
                continue
            found = None
            for candidate in self.state.stores.values():
                flags = [type_id_is_primary(store.type.name, candidate.type.name, t) for t in type_ids]
                if type_ids and all(f is not None for f in flags):
                    found = (candidate, any(flags))
            if found is None or found[0].get(to_id) is None:
                problems.append(ItemError("VALIDATION_ERROR", f"Association to {to_id} with type ids "
                                          f"{type_ids} is not valid from {store.type.name}"))
                continue
            links.append((found[0].type.name, to_id, found[1]))
        return links, problems

    def _link(self, store: ObjectStore, obj: CrmObject, links: list[tuple[str, int, bool]]) -> None:
        for to_type, to_id, primary in links:
            self.state.associations.add(store.type.name, obj.id, to_type, to_id, primary)

    def _v3_associations(self, store: ObjectStore, obj: CrmObject, wanted: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in wanted:
            target = object_type(name)
            pairs = self.state.associations.targets(store.type.name, obj.id, target.name)
            if pairs:
                kind = f"{store.type.singular}_to_{target.singular}"
                out[target.name] = {"results": [{"id": str(t), "type": kind} for t, _ in pairs]}
        return out


def _item_errors(problems: list[ItemError], key: str, context_key: str = "ids") -> list[dict[str, Any]]:
    """One StandardError per rejected input, naming the input in `context` so clients can map it."""
    names = [p.name for p in problems if p.name]
    category = "CONFLICT" if any(p.category == "CONFLICT" for p in problems) else problems[0].category
    context = {context_key: [key], **({"propertyName": names} if names else {})}
    error = ItemError(category, "; ".join(p.message for p in problems), context=context)
    body = standard_error(error)
    body["errors"] = [{"message": p.message, "code": p.code or "INVALID", "in": p.name or ""}
                      for p in problems]
    return [body]


def _validation(problems: list[ItemError]) -> HubSpotError:
    details = [{"isValid": False, "message": p.message, "error": p.code or "INVALID", "name": p.name or ""}
               for p in problems]
    category = "CONFLICT" if any(p.category == "CONFLICT" for p in problems) else "VALIDATION_ERROR"
    status = 409 if category == "CONFLICT" else 400
    return HubSpotError(status, f"Property values were not valid: {json.dumps(details)}", category)


def build_hubspot_app(state: HubSpotState, *, burst: int = 100, daily: int = 250_000,
                      latency_s: float = 0.0) -> Starlette:
    gateway = HubSpotGateway(state, burst=burst, daily=daily, latency_s=latency_s)
    objects = HubSpotObjectRoutes(state)
    r = gateway.route
    routes = control_routes(stats=state.stats, faults=state.faults, settings=state.limit_settings,
                            reset_limits=gateway.limiter.reset, describe_state=state.summary)
    routes += [
        r("POST", f"{OBJECTS}/search", objects.search, search=True),
        r("POST", f"{OBJECTS}/batch/read", objects.batch_read),
        r("POST", f"{OBJECTS}/batch/update", objects.batch_update, write=True),
        r("POST", f"{OBJECTS}/batch/create", objects.batch_create, write=True),
        r("POST", f"{OBJECTS}/batch/upsert", objects.batch_upsert, write=True),
        r("GET", OBJECTS, objects.list_page),
        r("POST", OBJECTS, objects.create_one, write=True),
        r("GET", f"{OBJECTS}/{{objectId}}", objects.get_one),
        r("PATCH", f"{OBJECTS}/{{objectId}}", objects.patch_one, write=True),
        r("DELETE", f"{OBJECTS}/{{objectId}}", objects.archive_one, write=True),
        r("GET", "/crm/v3/properties/{objectType}", objects.properties),
    ]
    routes += association_routes(gateway, state, hubspot_handler)
    routes.append(gateway.fallback_route())
    return Starlette(routes=routes)
