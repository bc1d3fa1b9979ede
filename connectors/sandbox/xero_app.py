"""The emulated Xero Accounting API (base /api.xro/2.0) plus its OAuth token endpoint.

Every API route runs through the shared gateway (token + tenant auth, per-tenant limits, faults,
stats). Writes honour `Idempotency-Key`: the same key with the same request replays the stored
response byte for byte without doing anything; the same key with a different request is refused.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
from decimal import Decimal
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox import jsonio
from connectors.sandbox.control import control_routes
from connectors.sandbox.gateway import json_bytes_response, json_response
from connectors.sandbox.timeutil import parse_if_modified_since
from connectors.sandbox.xero_batches import (
    elements_of, reverse_payment, write_contacts, write_invoices, write_payments)
from connectors.sandbox.xero_books import XeroBooks
from connectors.sandbox.xero_http import (
    NOT_FOUND_TEXT, NotFound, XeroError, XeroGateway, api_exception, envelope, query_error,
    validation_error, xero_json)
from connectors.sandbox.xero_money_routes import money_routes
from connectors.sandbox.xero_payments import render_payment
from connectors.sandbox.xero_queries import ListQuery, matching_ids, page_of
from connectors.sandbox.xero_state import XeroState
from connectors.sandbox.xero_where import Field, WhereError, compile_where

API = "/api.xro/2.0"
MAX_KEY = 128


def xero_handler(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any) -> Response:
        try:
            return await fn(*args)
        except XeroError as error:
            return xero_json(error.body, error.status)
        except WhereError as error:
            return xero_json(query_error(str(error)).body, 400)
        except NotFound:
            return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
    return wrapper


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return jsonio.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        raise XeroError(400, api_exception(f"JSON for post data was invalid: {error.msg} at line "
                                           f"{error.lineno} column {error.colno}", number=17,
                                           type_="PostDataInvalidException")) from None


def _flag(request: Request, name: str, default: bool) -> bool:
    value = request.query_params.get(name)
    return default if value is None else value.strip().lower() == "true"


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise validation_error(f"{name} must be an integer, got {value!r}") from None


def _csv(request: Request, name: str) -> tuple[str, ...]:
    return tuple(v.strip().strip('"') for raw in request.query_params.getlist(name)
                 for v in raw.split(",") if v.strip())


def _list_query(request: Request, collection: str) -> ListQuery:
    since = request.headers.get("if-modified-since")
    try:
        modified_since = parse_if_modified_since(since) if since else None
    except (ValueError, TypeError):
        raise validation_error(f"If-Modified-Since is not a valid date: {since!r}") from None
    return ListQuery(collection, where=request.query_params.get("where", ""),
                     order=request.query_params.get("order", ""), modified_since=modified_since,
                     ids=_csv(request, "IDs"), numbers=_csv(request, "InvoiceNumbers"),
                     contact_ids=_csv(request, "ContactIDs"), statuses=_csv(request, "Statuses"),
                     search_term=request.query_params.get("searchTerm", ""),
                     include_archived=_flag(request, "includeArchived", False),
                     references=_csv(request, "References"))


class XeroRoutes:
    def __init__(self, state: XeroState) -> None:
        self.state = state

    # ---- identity -----------------------------------------------------------------------
    async def token(self, request: Request, ctx: Any) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                return json_response({"error": "invalid_client"}, 400)
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        status, body = self.state.auth.refresh(client_id, client_secret, form.get("refresh_token"))
        return json_response(body, status, {"Cache-Control": "no-store"})

    async def connections(self, request: Request, ctx: Any) -> Response:
        rows = [{"id": books.tenant_id, "authEventId": books.tenant_id, "tenantId": books.tenant_id,
                 "tenantType": "ORGANISATION", "tenantName": books.org["Name"],
                 "createdDateUtc": "2024-01-01T00:00:00.0000000", "updatedDateUtc": "2024-01-01T00:00:00.0000000"}
                for books in self.state.tenants.values()]
        return json_response(rows)

    # ---- reference data -----------------------------------------------------------------
    @xero_handler
    async def organisation(self, request: Request, books: XeroBooks) -> Response:
        return xero_json(envelope(self.state, "Organisations", [books.org]))

    def _reference(self, key: str, rows: Callable[[XeroBooks], dict[str, dict[str, Any]]], resource: str):
        @xero_handler
        async def handler(request: Request, books: XeroBooks) -> Response:
            with self.state.lock:
                items = list(rows(books).values())
            predicate = compile_where(request.query_params.get("where", ""), _scalar_fields(items), resource)
            return xero_json(envelope(self.state, key, [i for i in items if predicate(i)]))
        return handler

    # ---- lists and singles ----------------------------------------------------------------
    def _lister(self, key: str, collection: str, render: Callable[[XeroBooks, dict[str, Any], bool], dict]):
        @xero_handler
        async def handler(request: Request, books: XeroBooks) -> Response:
            query = _list_query(request, collection)
            page = _int(request, "page")
            with self.state.lock:
                ids = matching_ids(books, query)
                chosen, pagination = page_of(ids, page, _int(request, "pageSize"))
                rows = books.records[collection]
                summary = page is None or _flag(request, "summaryOnly", False)
                items = [render(books, rows[i], summary) for i in chosen]
            return xero_json(envelope(self.state, key, items, pagination))
        return handler

    @xero_handler
    async def invoice(self, request: Request, books: XeroBooks) -> Response:
        with self.state.lock:
            found = books.invoice(request.path_params["InvoiceID"])
            if found is None:
                return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
            return xero_json(envelope(self.state, "Invoices", [books.render_invoice(found)]))

    @xero_handler
    async def contact(self, request: Request, books: XeroBooks) -> Response:
        with self.state.lock:
            key = request.path_params["ContactID"]
            found = books.contact(key) or books.contact_by_number(key)
            if found is None:
                return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
            return xero_json(envelope(self.state, "Contacts", [books.render_contact(found)]))

    @xero_handler
    async def payment(self, request: Request, books: XeroBooks) -> Response:
        with self.state.lock:
            found = books.payment(request.path_params["PaymentID"])
            if found is None:
                return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
            return xero_json(envelope(self.state, "Payments", [render_payment(found, books)]))

    def _single(self, key: str, param: str, find: Callable[[XeroBooks, str], dict[str, Any] | None],
                render: Callable[[XeroBooks, dict[str, Any], bool], dict[str, Any]]):
        """GET /{Collection}/{id}: the one record in full, or Xero's plain-text 404."""
        @xero_handler
        async def handler(request: Request, books: XeroBooks) -> Response:
            with self.state.lock:
                found = find(books, request.path_params[param])
                if found is None:
                    raise NotFound(request.path_params[param])
                return xero_json(envelope(self.state, key, [render(books, found, False)]))
        return handler

    # ---- writes -------------------------------------------------------------------------
    def _writer(self, key: str, write: Callable[..., tuple[int, list[dict[str, Any]]]], **options: Any):
        @xero_handler
        async def handler(request: Request, books: XeroBooks) -> Response:
            elements = elements_of(await _body(request), key)
            extra = dict(options)
            if "unitdp" in extra:
                extra["unitdp"] = 4 if _int(request, "unitdp") == 4 else 2
            if "forced_id" in extra:
                extra["forced_id"] = request.path_params.get(extra["forced_id"])
            with self.state.lock:
                status, items = write(books, elements, summarize=_flag(request, "summarizeErrors", True),
                                      **extra)
            return xero_json(envelope(self.state, key, items), status)
        return self._idempotent(handler)

    @xero_handler
    async def delete_payment(self, request: Request, books: XeroBooks) -> Response:
        elements = elements_of(await _body(request), "Payments")
        if not elements or str(elements[0].get("Status", "")).upper() != "DELETED":
            raise validation_error('Only {"Status": "DELETED"} can be posted to a payment')
        with self.state.lock:
            found = books.payment(request.path_params["PaymentID"])
            if found is None:
                return Response(NOT_FOUND_TEXT, status_code=404, media_type="text/plain")
            return xero_json(envelope(self.state, "Payments", [reverse_payment(books, found)]))

    def _idempotent(self, handler: Callable[[Request, XeroBooks], Awaitable[Response]]):
        """Replay a stored response for a repeated Idempotency-Key; refuse a reused key."""

        async def wrapper(request: Request, books: XeroBooks) -> Response:
            key = request.headers.get("idempotency-key")
            if key is None:
                return await handler(request, books)
            if len(key) > MAX_KEY or not key.strip():
                return xero_json(validation_error(f"The Idempotency-Key header must be 1 to {MAX_KEY} "
                                                  f"characters long; got {len(key)}").body, 400)
            body = await request.body()
            print_ = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.lower().encode(),
                                                str(sorted(request.query_params.multi_items())).encode(),
                                                body])).hexdigest()
            retention = self.state.limit_settings.scaled(self.state.idempotency_retention_s)
            # check → process → store runs under the state lock and the handler never suspends
            # (the body is already read), so two calls with one key cannot interleave.
            with self.state.lock:
                stored = books.idempotency.get(key)
                if stored is not None and stored.get("stored_at") is not None \
                        and time.monotonic() - stored["stored_at"] > retention:
                    del books.idempotency[key]
                    stored = None
                if stored is not None:
                    if stored["fingerprint"] != print_:
                        return xero_json(validation_error(
                            f"The Idempotency-Key {key!r} was already used for a different request "
                            f"(method, path or body differ). Use a new key for a new request.").body, 400)
                    return json_bytes_response(stored["body"].encode("utf-8"), stored["status"],
                                               media_type=stored["content_type"])
                response = await handler(request, books)
                if response.status_code < 500 and response.status_code != 429:
                    books.idempotency[key] = {
                        "fingerprint": print_, "status": response.status_code,
                        "body": bytes(response.body).decode("utf-8"),
                        "content_type": response.headers.get("content-type", "application/json"),
                        "stored_at": time.monotonic()}
                return response

        return wrapper


def _scalar_fields(items: list[dict[str, Any]]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for item in items[:1]:
        for name, value in item.items():
            kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, (int, Decimal)) \
                else "string" if isinstance(value, str) else None
            if kind:
                fields[name] = Field(kind, (lambda n: lambda r: r.get(n))(name))
    return fields


def _render_invoice(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return books.render_invoice(row, summary=summary)


def _render_contact(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return books.render_contact(row)


def _render_payment(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return render_payment(row, books)


def build_xero_app(state: XeroState, *, latency_s: float = 0.0, **limits: int) -> Starlette:
    gateway = XeroGateway(state, latency_s=latency_s, **limits)
    x = XeroRoutes(state)
    r = gateway.route

    def expire_tokens_route() -> Any:
        from starlette.routing import Route

        async def expire(request: Request) -> Response:
            return json_response({"expired": state.auth.expire_all()})
        return Route("/_sandbox/xero/expire-tokens", expire, methods=["POST"])

    routes = control_routes(stats=state.stats, faults=state.faults, settings=state.limit_settings,
                            reset_limits=gateway.limiter.reset, describe_state=state.summary)
    routes.append(expire_tokens_route())
    routes += [
        r("POST", "/connect/token", x.token, auth="none"),
        r("GET", "/connections", x.connections, auth="token"),
        r("GET", f"{API}/Organisation", x.organisation),
        r("GET", f"{API}/TaxRates", x._reference("TaxRates", lambda b: b.tax_rates, "TaxRate")),
        r("GET", f"{API}/Accounts", x._reference("Accounts", lambda b: b.accounts, "Account")),
        r("GET", f"{API}/Currencies", x._reference("Currencies", lambda b: b.currencies, "Currency")),
        r("GET", f"{API}/Contacts", x._lister("Contacts", "contacts", _render_contact)),
        r("PUT", f"{API}/Contacts", x._writer("Contacts", write_contacts, match_number=False), write=True),
        r("POST", f"{API}/Contacts", x._writer("Contacts", write_contacts, match_number=True), write=True),
        r("GET", f"{API}/Contacts/{{ContactID}}", x.contact),
        r("POST", f"{API}/Contacts/{{ContactID}}", x._writer("Contacts", write_contacts, match_number=True,
                                                             forced_id="ContactID"), write=True),
        r("GET", f"{API}/Invoices", x._lister("Invoices", "invoices", _render_invoice)),
        r("PUT", f"{API}/Invoices", x._writer("Invoices", write_invoices, match_number=False, unitdp=2),
          write=True),
        r("POST", f"{API}/Invoices", x._writer("Invoices", write_invoices, match_number=True, unitdp=2),
          write=True),
        r("GET", f"{API}/Invoices/{{InvoiceID}}", x.invoice),
        r("POST", f"{API}/Invoices/{{InvoiceID}}", x._writer("Invoices", write_invoices, match_number=True,
                                                             unitdp=2, forced_id="InvoiceID"), write=True),
        r("GET", f"{API}/Payments", x._lister("Payments", "payments", _render_payment)),
        r("PUT", f"{API}/Payments", x._writer("Payments", write_payments), write=True),
        r("POST", f"{API}/Payments", x._writer("Payments", write_payments), write=True),
        r("GET", f"{API}/Payments/{{PaymentID}}", x.payment),
        r("POST", f"{API}/Payments/{{PaymentID}}", x._idempotent(x.delete_payment), write=True),
        *money_routes(x, r),
        gateway.fallback_route(),
    ]
    return Starlette(routes=routes)
