"""The emulated QuickBooks Online Accounting API (base /v3/company/{realmId}) and its token endpoint.

Every API route runs through the shared gateway (count → authenticate → throttle → fault →
handle); the /_sandbox/ control routes bypass it. Writes honour QBO's `requestid` query
parameter (≤ 50 characters, ≤ 36 on /batch): a repeat returns the ORIGINAL response byte for byte
and writes nothing — whatever the repeat's body says, as QBO documents it. `minorversion` is
accepted on every call and recorded (QBO serves versions below 75 as 75 since their retirement).
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox import jsonio
from connectors.sandbox.control import control_routes
from connectors.sandbox.gateway import json_bytes_response, json_response
from connectors.sandbox.quickbooks_books import BY_PATH, QuickBooksBooks
from connectors.sandbox.quickbooks_cdc import changes
from connectors.sandbox.quickbooks_http import (
    QBOFault, QuickBooksGateway, envelope, fault_response, not_found, qbo_json, validation)
from connectors.sandbox.quickbooks_query import run as run_query
from connectors.sandbox.quickbooks_state import QuickBooksState
from connectors.sandbox.quickbooks_writes import WRITABLE_ENTITIES, apply, run_batch

API = "/v3/company/{realm}"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
Handler = Callable[[Request, QuickBooksBooks], Awaitable[Response]]


def _bad_request(detail: str) -> QBOFault:
    return validation("2010", "Request has invalid or unsupported property", detail)


class QuickBooksRoutes:
    def __init__(self, state: QuickBooksState) -> None:
        self.state = state

    def handler(self, fn: Handler) -> Handler:
        """QBO's error bodies for faults raised inside, and the minorversion bookkeeping."""

        @functools.wraps(fn)
        async def wrapper(request: Request, books: QuickBooksBooks) -> Response:
            try:
                minor = request.query_params.get("minorversion")
                if minor is not None and not minor.strip().isdigit():
                    raise _bad_request(f"minorversion {minor!r} is not a number")
                with self.state.lock:
                    key = minor.strip() if minor else "none"
                    self.state.minor_versions[key] = self.state.minor_versions.get(key, 0) + 1
                return await fn(request, books)
            except QBOFault as fault:
                return fault_response(fault)
        return wrapper

    async def _json(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return jsonio.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _bad_request(f"Request body is not valid JSON: {error}") from None

    def replayable(self, fn: Handler, limit: int) -> Handler:
        """`requestid`: the first response is kept; a repeat gets it back and nothing is written."""

        async def wrapper(request: Request, books: QuickBooksBooks) -> Response:
            request_id = request.query_params.get("requestid")
            if request_id is None:
                return await fn(request, books)
            if not request_id.strip() or len(request_id) > limit:
                return fault_response(_bad_request(f"requestid must be 1 to {limit} characters; "
                                                   f"got {len(request_id)}"))
            await request.body()  # read now: the handler below then never suspends under the lock
            with self.state.lock:
                stored = books.requests.get(request_id)
                if stored is not None:
                    return json_bytes_response(stored["body"].encode("utf-8"), stored["status"])
                response = await fn(request, books)
                if response.status_code < 500:
                    books.requests[request_id] = {"status": response.status_code,
                                                  "body": bytes(response.body).decode("utf-8")}
                return response
        return wrapper

    # ---- identity -----------------------------------------------------------------------
    async def token(self, request: Request, ctx: Any) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return json_response({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        status, body = self.state.auth.refresh(client_id, client_secret, form.get("refresh_token"))
        return json_response(body, status, {"Cache-Control": "no-store"})

    # ---- reads --------------------------------------------------------------------------
    async def query(self, request: Request, books: QuickBooksBooks) -> Response:
        text = request.query_params.get("query")
        if request.method == "POST":
            text = (await request.body()).decode("utf-8", "replace")
        if not text:
            raise validation("2020", "Required param missing, need to supply the required value "
                             "for the API", "Required parameter query is missing in the request")
        with self.state.lock:
            return qbo_json(envelope({"QueryResponse": run_query(books, text)}))

    async def read(self, request: Request, books: QuickBooksBooks) -> Response:
        entity = BY_PATH.get(request.path_params["entity"].lower())
        if entity is None:
            raise not_found(request.path_params["entity"], "")
        with self.state.lock:
            record = books.get(entity, request.path_params["entity_id"])
            if record is None:
                raise not_found(entity, request.path_params["entity_id"])
            return qbo_json(envelope({entity: books.render(entity, record)}))

    async def preferences(self, request: Request, books: QuickBooksBooks) -> Response:
        with self.state.lock:
            return qbo_json(envelope({"Preferences": books.render("Preferences", books.records["Preferences"]["1"])}))

    async def cdc(self, request: Request, books: QuickBooksBooks) -> Response:
        with self.state.lock:
            body = changes(books, request.query_params.get("entities"),
                           request.query_params.get("changedSince"))
        return qbo_json(envelope(body))

    # ---- writes -------------------------------------------------------------------------
    async def write(self, request: Request, books: QuickBooksBooks) -> Response:
        entity = BY_PATH.get(request.path_params["entity"].lower())
        if entity not in WRITABLE_ENTITIES:
            raise _bad_request(f"{request.path_params['entity']} cannot be written through this API")
        payload = await self._json(request)
        with self.state.lock:
            rendered = apply(books, entity, request.query_params.get("operation"), payload)
        return qbo_json(envelope({entity: rendered}))

    async def batch(self, request: Request, books: QuickBooksBooks) -> Response:
        body = await self._json(request)
        with self.state.lock:
            return qbo_json(envelope(run_batch(books, body)))


def build_quickbooks_app(state: QuickBooksState, *, latency_s: float = 0.0, **limits: int) -> Starlette:
    gateway = QuickBooksGateway(state, latency_s=latency_s, **limits)
    q = QuickBooksRoutes(state)
    r = gateway.route
    h = q.handler

    async def expire(request: Request) -> Response:
        return json_response({"expired": state.auth.expire_all()})

    async def index_lag(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        with state.lock:
            state.books.query_lag_s = float(body.get("seconds", 0.0))
        return json_response({"seconds": state.books.query_lag_s})

    routes = control_routes(stats=state.stats, faults=state.faults, settings=state.limit_settings,
                            reset_limits=gateway.limiter.reset, describe_state=state.summary)
    routes += [
        Route("/_sandbox/quickbooks/expire-tokens", expire, methods=["POST"]),
        Route("/_sandbox/quickbooks/index-lag", index_lag, methods=["POST"]),
        r("POST", TOKEN_PATH, q.token, auth="none"),
        r("GET", f"{API}/query", h(q.query)),
        r("POST", f"{API}/query", h(q.query)),
        r("GET", f"{API}/cdc", h(q.cdc)),
        r("POST", f"{API}/batch", h(q.replayable(q.batch, MAX_BATCH_REQUEST_ID)), write=True),
        r("GET", f"{API}/preferences", h(q.preferences)),
        r("GET", f"{API}/{{entity}}/{{entity_id}}", h(q.read)),
        r("POST", f"{API}/{{entity}}", h(q.replayable(q.write, MAX_REQUEST_ID)), write=True),
        gateway.fallback_route(),
    ]
    return Starlette(routes=routes)
