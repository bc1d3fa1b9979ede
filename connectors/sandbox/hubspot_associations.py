"""Associations v4: batch read, per-object read, and create/delete of single associations.

Two real-API habits matter to clients and are kept: an id with no associations is not an empty
result but an entry in `errors` (207, subCategory crm.associations.NO_ASSOCIATIONS_FOUND), and
`toObjectId` is a JSON number while `from.id` is a string. A deal's primary company is reported
with two association types, the labelled "Primary" one and the unlabelled one.
"""

from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox.gateway import json_response
from connectors.sandbox.hubspot_http import (
    HubSpotError, HubSpotGateway, batch_inputs, batch_reply, object_type, read_json, standard_error)
from connectors.sandbox.hubspot_schema import ASSOCIATION_TYPES, association_types, type_id_is_primary
from connectors.sandbox.hubspot_state import HubSpotState, ItemError
from connectors.sandbox.timeutil import iso_ms, wall_ms

MAX_INPUTS = 1000
PAGE = 500
V4 = "/crm/v4"


def _pair(request: Request, from_key: str, to_key: str) -> tuple[str, str]:
    from_type = object_type(request.path_params[from_key])
    to_type = object_type(request.path_params[to_key])
    if (from_type.name, to_type.name) not in ASSOCIATION_TYPES:
        raise HubSpotError(400, f"Associations from {from_type.name} to {to_type.name} are not "
                                f"supported by this portal")
    return from_type.name, to_type.name


def _page(targets: list[tuple[int, bool]], after: str | None, from_type: str, to_type: str
          ) -> tuple[list[dict[str, Any]], str | None]:
    start = int(after) if after and after.isdigit() else 0
    chunk = targets[start:start + PAGE]
    rows = [{"toObjectId": to_id, "associationTypes": association_types(from_type, to_type, primary)}
            for to_id, primary in chunk]
    following = str(start + PAGE) if start + PAGE < len(targets) else None
    return rows, following


def association_routes(gateway: HubSpotGateway, state: HubSpotState,
                       handler: Callable[..., Any]) -> list[Route]:

    @handler
    async def batch_read(request: Request, ctx: Any) -> Response:
        from_type, to_type = _pair(request, "fromObjectType", "toObjectType")
        started = iso_ms(wall_ms())
        inputs = batch_inputs(await read_json(request), MAX_INPUTS)
        results, errors = [], []
        with state.lock:
            for item in inputs:
                key = str(item.get("id", ""))
                source = state.stores[from_type].get(key)
                targets = state.associations.targets(from_type, source.id, to_type) if source else []
                if not targets:
                    errors.append(standard_error(ItemError(
                        "OBJECT_NOT_FOUND",
                        f"No {state.stores[to_type].type.singular} is associated with "
                        f"{state.stores[from_type].type.singular} {key}.",
                        context={"fromObjectId": [key],
                                 "fromObjectType": [state.stores[from_type].type.singular],
                                 "toObjectType": [state.stores[to_type].type.singular]}),
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND"))
                    continue
                rows, following = _page(targets, item.get("after"), from_type, to_type)
                result: dict[str, Any] = {"from": {"id": key}, "to": rows}
                if following:
                    result["paging"] = {"next": {"after": following}}
                results.append(result)
        return batch_reply(results, errors, started)

    @handler
    async def read_for_object(request: Request, ctx: Any) -> Response:
        from_type, to_type = _pair(request, "objectType", "toObjectType")
        key = request.path_params["objectId"]
        with state.lock:
            source = state.stores[from_type].get(key)
            if source is None:
                raise HubSpotError(404, f"No {from_type} with id {key}", "OBJECT_NOT_FOUND")
            targets = state.associations.targets(from_type, source.id, to_type)
        try:
            limit = min(PAGE, max(1, int(request.query_params.get("limit", str(PAGE)))))
        except ValueError:
            raise HubSpotError(400, "limit must be an integer") from None
        start = int(request.query_params.get("after") or 0)
        chunk = targets[start:start + limit]
        reply: dict[str, Any] = {"results": [
            {"toObjectId": t, "associationTypes": association_types(from_type, to_type, p)} for t, p in chunk]}
        if start + limit < len(targets):
            reply["paging"] = {"next": {"after": str(start + limit)}}
        return json_response(reply)

    def _endpoints(request: Request, from_key: str, id_key: str, to_key: str, to_id_key: str
                   ) -> tuple[str, int, str, int]:
        from_type, to_type = _pair(request, from_key, to_key)
        from_obj = state.stores[from_type].get(request.path_params[id_key])
        to_obj = state.stores[to_type].get(request.path_params[to_id_key])
        if from_obj is None or to_obj is None:
            raise HubSpotError(404, "One of the objects to associate does not exist", "OBJECT_NOT_FOUND")
        return from_type, from_obj.id, to_type, to_obj.id

    @handler
    async def create_default(request: Request, ctx: Any) -> Response:
        started = iso_ms(wall_ms())
        with state.lock:
            from_type, from_id, to_type, to_id = _endpoints(
                request, "fromObjectType", "fromObjectId", "toObjectType", "toObjectId")
            state.associations.add(from_type, from_id, to_type, to_id)
        spec = {"associationCategory": "HUBSPOT_DEFINED",
                "associationTypeId": ASSOCIATION_TYPES[(from_type, to_type)]["plain"]}
        return batch_reply([{"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
                             "associationSpec": spec}], [], started)

    @handler
    async def create_labelled(request: Request, ctx: Any) -> Response:
        body = await read_json(request)
        if not isinstance(body, list) or not body:
            raise HubSpotError(400, "The body must be a list of {associationCategory, associationTypeId}")
        with state.lock:
            from_type, from_id, to_type, to_id = _endpoints(
                request, "objectType", "objectId", "toObjectType", "toObjectId")
            flags = [type_id_is_primary(from_type, to_type, int(s.get("associationTypeId", -1))) for s in body]
            if any(f is None for f in flags):
                raise HubSpotError(400, f"Unknown associationTypeId for {from_type} to {to_type}")
            state.associations.add(from_type, from_id, to_type, to_id, primary=any(flags))
        labels = ["Primary"] if any(flags) else []
        return json_response({"fromObjectTypeId": state.stores[from_type].type.type_id,
                              "fromObjectId": str(from_id), "toObjectTypeId": state.stores[to_type].type.type_id,
                              "toObjectId": str(to_id), "labels": labels}, 201)

    @handler
    async def delete(request: Request, ctx: Any) -> Response:
        with state.lock:
            from_type, from_id, to_type, to_id = _endpoints(
                request, "objectType", "objectId", "toObjectType", "toObjectId")
            state.associations.remove(from_type, from_id, to_type, to_id)
        return Response(status_code=204)

    r = gateway.route
    return [
        r("POST", f"{V4}/associations/{{fromObjectType}}/{{toObjectType}}/batch/read", batch_read),
        r("GET", f"{V4}/objects/{{objectType}}/{{objectId}}/associations/{{toObjectType}}", read_for_object),
        r("PUT", f"{V4}/objects/{{fromObjectType}}/{{fromObjectId}}/associations/default/"
                 f"{{toObjectType}}/{{toObjectId}}", create_default, write=True),
        r("PUT", f"{V4}/objects/{{objectType}}/{{objectId}}/associations/{{toObjectType}}/{{toObjectId}}",
          create_labelled, write=True),
        r("DELETE", f"{V4}/objects/{{objectType}}/{{objectId}}/associations/{{toObjectType}}/{{toObjectId}}",
          delete, write=True),
    ]
