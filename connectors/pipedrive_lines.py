"""Line items in Pipedrive: deal products, read in batches by deal, priced with their catalogue data.

Pipedrive has no line-item object with its own id space that can be fetched by id in batch: a
deal product (a "product attachment") is reached through its deal (`GET /deals/products?deal_ids=`,
up to 100 deals a call). So ledgerlink's line-item id carries its deal — `"<deal_id>:<attachment
id>"` — and a batch read by ids needs no state: it groups the ids by deal and reads those deals'
products. The tax treatment lives on the catalogue product (the `tax_group` custom field, since a
0 % rate alone cannot tell zero-rated from exempt or export), so each line also carries its
product's `code` and custom fields by name, read with `GET /products?ids=` (100 a call) —
never one GET per line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from connectors.http import VendorHttpClient
from connectors.paging import chunked
from connectors.pipedrive_fields import FieldSchema, as_text

DEALS_PER_CALL = 100
IDS_PER_CALL = 100
PAGE_LIMIT = 500
DEAL_PRODUCTS = "/api/v2/deals/products"
PRODUCTS = "/api/v2/products"


def line_id(deal_id: Any, attachment_id: Any) -> str:
    return f"{deal_id}:{attachment_id}"


def parse_line_id(text: str) -> tuple[int, int] | None:
    deal, sep, attachment = str(text).partition(":")
    if not sep or not deal.isdigit() or not attachment.isdigit():
        return None
    return int(deal), int(attachment)


def pages(http: VendorHttpClient, path: str, params: dict[str, Any]) -> Iterator[list[dict]]:
    """Every page of a v2 list, following `additional_data.next_cursor` to the end."""
    cursor = None
    while True:
        query = {**params, "cursor": cursor} if cursor else params
        body = http.get(path, params=query).body or {}
        yield list(body.get("data") or [])
        cursor = (body.get("additional_data") or {}).get("next_cursor")
        if not cursor:
            return


def discount_percent(item: dict) -> Any:
    """A deal product's discount as the percentage invoices carry. Pipedrive also allows a fixed
    amount; that is passed on as a sentence the mapping refuses with the line named (the deal then
    waits in the exception queue), never converted to a rounded percentage behind finance's back."""
    discount = item.get("discount")
    if item.get("discount_type", "percentage") == "percentage" or discount in (None, 0, "0"):
        return discount
    return f"a discount of {discount} as an amount; give line discounts as a percentage"


class DealProducts:
    """Reads deal products for the connector (`schema` gives the productFields schema)."""

    def __init__(self, http: VendorHttpClient, product_schema: Callable[[], FieldSchema]) -> None:
        self.http = http
        self.product_schema = product_schema

    def of_deals(self, deal_ids: Iterable[int]) -> dict[int, list[dict]]:
        """Each deal's products in the deal's own order (order_nr, then attachment id)."""
        found: dict[int, list[dict]] = {}
        for chunk in chunked(list(dict.fromkeys(deal_ids)), DEALS_PER_CALL):
            params = {"deal_ids": ",".join(str(i) for i in chunk), "limit": PAGE_LIMIT}
            for page in pages(self.http, DEAL_PRODUCTS, params):
                for item in page:
                    found.setdefault(int(item["deal_id"]), []).append(item)
        for items in found.values():
            items.sort(key=lambda item: (item.get("order_nr") or 0, int(item["id"])))
        return found

    def ids_by_deal(self, deal_ids: Iterable[str]) -> dict[str, list[str]]:
        """read_associations("deals", "line_items"): line ids per deal; [] for none."""
        wanted = [str(i) for i in deal_ids]
        numeric = [int(i) for i in wanted if i.isdigit()]
        products = self.of_deals(numeric)
        return {i: [line_id(i, item["id"]) for item in products.get(int(i), [])] if i.isdigit() else []
                for i in wanted}

    def read(self, ids: Iterable[str]) -> tuple[dict[str, dict], list[str]]:
        """(records by line id, ids not found): deal-product fields plus the product's `code`
        and its custom fields by name (`tax_group`)."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        parsed = {i: parse_line_id(i) for i in wanted}
        products = self.of_deals(key[0] for key in parsed.values() if key)
        by_key = {(deal_id, int(item["id"])): item for deal_id, items in products.items() for item in items}
        found: dict[str, dict] = {}
        for text, key in parsed.items():
            item = by_key.get(key) if key else None
            if item is not None:
                found[text] = item
        catalogue = self.catalogue({int(item["product_id"]) for item in found.values()
                                    if item.get("product_id") is not None})
        records = {}
        for text, item in found.items():
            props = {**item, "discount_percent": discount_percent(item)}
            for name, value in catalogue.get(item.get("product_id"), {}).items():
                props.setdefault(name, value)
            records[text] = {"id": text, "properties": {k: as_text(v) for k, v in props.items()}}
        return records, [i for i in wanted if i not in records]

    def catalogue(self, product_ids: set[int]) -> dict[int, dict[str, Any]]:
        """{product id: {"code": …, custom field name: value}} in batches of 100."""
        if not product_ids:
            return {}
        schema = self.product_schema()
        out: dict[int, dict[str, Any]] = {}
        for chunk in chunked(sorted(product_ids), IDS_PER_CALL):
            params = {"ids": ",".join(str(i) for i in chunk), "limit": IDS_PER_CALL}
            for page in pages(self.http, PRODUCTS, params):
                for product in page:
                    props = schema.properties({"code": product.get("code"),
                                               "custom_fields": product.get("custom_fields") or {}})
                    out[int(product["id"])] = props
        return out
