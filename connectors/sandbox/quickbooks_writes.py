"""Writes as QBO exposes them: one entity per call, or up to 30 in a batch, each item on its own.

`apply` is the one dispatcher both routes use (entity × operation: create, update, delete,
void). `run_batch` answers a `BatchItemRequest` list with one `BatchItemResponse` per item —
the entity, a QueryResponse, or a Fault: partial success is normal. Items of one batch cannot see
each other's new entities (references resolve only to ids that existed when the batch began),
while uniqueness rules such as DisplayName see everything written so far, as a database would.
"""

from __future__ import annotations

from typing import Any

from connectors.sandbox.quickbooks_books import QuickBooksBooks
from connectors.sandbox.quickbooks_customers import create_customer, update_customer
from connectors.sandbox.quickbooks_http import QBOFault, validation
from connectors.sandbox.quickbooks_payments import create_payment
from connectors.sandbox.quickbooks_query import run as run_query
from connectors.sandbox.quickbooks_sales import create_sales, delete_transaction, update_sales, void_invoice

MAX_BATCH = 30
WRITABLE_ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo")
OPERATIONS = {
    ("Customer", "create"): create_customer,
    ("Customer", "update"): update_customer,
    ("Invoice", "create"): lambda b, p, v: create_sales(b, "Invoice", p, v),
    ("Invoice", "update"): lambda b, p, v: update_sales(b, "Invoice", p, v),
    ("Invoice", "delete"): lambda b, p, v: delete_transaction(b, "Invoice", p, v),
    ("Invoice", "void"): void_invoice,
    ("CreditMemo", "create"): lambda b, p, v: create_sales(b, "CreditMemo", p, v),
    ("CreditMemo", "update"): lambda b, p, v: update_sales(b, "CreditMemo", p, v),
    ("CreditMemo", "delete"): lambda b, p, v: delete_transaction(b, "CreditMemo", p, v),
    ("Payment", "create"): create_payment,
    ("Payment", "delete"): lambda b, p, v: delete_transaction(b, "Payment", p, v),
}


def unsupported_operation(entity: str, operation: str) -> QBOFault:
    return validation("2010", "Request has invalid or unsupported property",
                      f"Operation {operation} is not supported for {entity}", "operation")


def apply(books: QuickBooksBooks, entity: str, operation: str | None, payload: Any,
          visible_below: int | None = None) -> dict[str, Any]:
    """Run one write; the answer's entity as QBO renders it. No operation: update when the
    payload carries an Id, else create (as `POST /{entity}` decides)."""
    if not isinstance(payload, dict):
        raise validation("2010", "Request has invalid or unsupported property",
                         f"The {entity} must be a JSON object")
    operation = (operation or ("update" if payload.get("Id") else "create")).lower()
    action = OPERATIONS.get((entity, operation))
    if action is None:
        raise unsupported_operation(entity, operation)
    record = action(books, payload, visible_below)
    return record if operation == "delete" else books.render(entity, record)


def run_batch(books: QuickBooksBooks, body: Any) -> dict[str, Any]:
    """The IntuitResponse body for a batch request (raises QBOFault when the request itself is bad)."""
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise validation("2020", "Required param missing, need to supply the required value for the API",
                         "Required parameter BatchItemRequest is missing in the request")
    if len(items) > MAX_BATCH:
        raise validation("2010", "Request has invalid or unsupported property",
                         f"Batch request has {len(items)} items; at most {MAX_BATCH} "
                         "BatchItemRequest items are allowed in one batch")
    seen: set[str] = set()
    visible_below = books.next_id
    answers = []
    for item in items:
        bid = str((item or {}).get("bId", "")) if isinstance(item, dict) else ""
        try:
            if not bid or bid in seen:
                raise validation("2010", "Request has invalid or unsupported property",
                                 f"bId {bid!r} is missing or repeated in this batch", "bId")
            seen.add(bid)
            answers.append({"bId": bid, **_item(books, item, visible_below)})
        except QBOFault as fault:
            answers.append({"bId": bid, "Fault": fault.fault})
    return {"BatchItemResponse": answers}


def _item(books: QuickBooksBooks, item: dict[str, Any], visible_below: int) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": run_query(books, item["Query"])}
    entities = [key for key in item if key in WRITABLE_ENTITIES]
    unknown = [key for key in item if key not in ("bId", "operation", "optionsData", *WRITABLE_ENTITIES)]
    if unknown or len(entities) != 1:
        raise validation("2010", "Request has invalid or unsupported property",
                         f"A batch item needs exactly one of {', '.join(WRITABLE_ENTITIES)} or a "
                         f"Query (got {', '.join(unknown or entities) or 'none'})")
    entity = entities[0]
    operation = item.get("operation")
    if operation is None:
        raise validation("2020", "Required param missing, need to supply the required value for the API",
                         "Required parameter operation is missing in the batch item", "operation")
    return {entity: apply(books, entity, operation, item[entity], visible_below)}
