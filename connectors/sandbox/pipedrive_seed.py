"""The dummy South African SME books, in Pipedrive: the very books the HubSpot seeder makes.

Rather than a second generator that would drift from the first, `seed_books` runs into a
throw-away HubSpot portal with the same seed, deal count and day, and the result is translated:
companies → organizations, contacts → persons, deals → deals (closedwon → `won` with `won_time`,
closedlost → `lost`, else `open`), line items → deal products, products → products. So a demo or
benchmark compares like with like across CRMs, and every defect kind of `BAD_DEAL_KINDS` is
present, marked in the `ll_seed_defect` custom field.

South African VAT treatment cannot ride on a 0 % rate alone (zero-rated, export and exempt are
all 0 %), so each product carries a `tax_group` custom field with HubSpot's tax group id
("1" standard, "2" zero-rated, "3" exempt, "4" export). HubSpot sets the export group per line;
Pipedrive has no per-line custom fields, so export lines use an export variant of the product
(code `<sku>-EXP`), and the `unknown_tax_group` deal uses a variant whose group is "99".
"""

from __future__ import annotations

import gc
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox.hubspot_schema import DEAL_STAGES, OWNER_IDS
from connectors.sandbox.hubspot_state import CrmObject, HubSpotState
from connectors.sandbox.pipedrive_query import pd_time
from connectors.sandbox.pipedrive_state import PipedriveState
from connectors.sandbox.seed import SeedReport, seed_books
from connectors.sandbox.timeutil import parse_iso
from connectors.sandbox.xero_reference import ZAR_PER_USD
from connectors.sandbox.xero_state import XeroState

PIPELINE_ID = 1
STAGE_IDS = {stage: n + 1 for n, stage in enumerate(s for s in DEAL_STAGES if not s.startswith("closed"))}
LAST_STAGE = max(STAGE_IDS.values())
USER_IDS = {owner: 13_000_001 + n for n, owner in enumerate(OWNER_IDS)}
DEFAULT_USER = USER_IDS[OWNER_IDS[0]]
STATUS = {"closedwon": "won", "closedlost": "lost"}
VARIANTS = {"4": ("EXP", "export"), "99": ("TAX99", "unmapped tax")}
EVERYONE = 3  # visible_to: owner's visibility group


def _second(ms: int) -> int:
    return ms // 1000 * 1000


def _money(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


class _Translator:
    def __init__(self, hubspot: HubSpotState, pipedrive: PipedriveState) -> None:
        self.hs = hubspot
        self.pd = pipedrive
        self.keys = {entity: {f.name: f.code for f in pipedrive.fields.custom(entity)}
                     for entity in ("deals", "organizations", "persons", "products")}
        self.org_ids: dict[int, int] = {}
        self.person_ids: dict[int, int] = {}
        self.product_ids: dict[tuple[int, str], int] = {}
        self.report = SeedReport()

    def _customs(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        return {code: values.get(name) for name, code in self.keys[entity].items()}

    def _targets(self, from_type: str, from_id: int, to_type: str) -> list[int]:
        return self.hs.associations.links.get((from_type, to_type), {}).get(from_id, [])

    # ---- organizations and persons ------------------------------------------------------
    def organizations(self) -> None:
        store = self.pd.organizations
        for obj in self.hs.companies.objects.values():
            p = obj.props
            line = p.get("address", "")
            number, _, route = line.partition(" ")
            parts = {"street_number": number, "route": route, "locality": p.get("city"),
                     "admin_area_level_1": p.get("state"), "postal_code": p.get("zip"),
                     "country": p.get("country")}
            address = {"value": ", ".join(v for v in (line, p.get("city"), p.get("state"), p.get("zip"),
                                                      p.get("country")) if v),
                       **{k: v for k, v in parts.items() if v}}
            data = {"name": p["name"], "owner_id": DEFAULT_USER, "visible_to": EVERYONE,
                    "label_ids": [], "address": address, "website": f"https://{p['domain']}",
                    "linkedin": None, "industry": None, "annual_revenue": None,
                    "employee_count": None, "is_deleted": False,
                    "custom_fields": self._customs("organizations", {
                        "vat_number": p.get("vat_number"), "billing_email": p.get("billing_email"),
                        "payment_terms": int(p["payment_terms"]) if p.get("payment_terms") else None,
                        "currency": p.get("currency"), "credit_limit": _money(p.get("credit_limit")),
                        "ledgerlink_accounting_id": p.get("ledgerlink_accounting_id")})}
            org_id = len(self.org_ids) + 1
            store.insert_raw(org_id, data, _second(obj.created_ms), _second(obj.modified_ms))
            self.org_ids[obj.id] = org_id
        self.report.companies = len(self.org_ids)

    def persons(self) -> None:
        store = self.pd.persons
        for obj in self.hs.contacts.objects.values():
            p = obj.props
            companies = self._targets("contacts", obj.id, "companies")
            data = {"name": f"{p['firstname']} {p['lastname']}", "first_name": p["firstname"],
                    "last_name": p["lastname"], "owner_id": DEFAULT_USER,
                    "org_id": self.org_ids.get(companies[0]) if companies else None,
                    "emails": [{"value": p["email"], "primary": True, "label": "work"}],
                    "phones": [{"value": p["phone"], "primary": True, "label": "work"}],
                    "job_title": p.get("jobtitle", ""), "visible_to": EVERYONE, "label_ids": [],
                    "is_deleted": False,
                    "custom_fields": self._customs("persons", {})}
            person_id = len(self.person_ids) + 1
            store.insert_raw(person_id, data, _second(obj.created_ms), _second(obj.modified_ms))
            self.person_ids[obj.id] = person_id
        self.report.contacts = len(self.person_ids)

    # ---- products -----------------------------------------------------------------------
    def product_for(self, hs_product_id: int, group: str) -> int:
        """The Pipedrive product for a HubSpot product sold under a tax group (variants made
        on first use, so ids follow the books' own order)."""
        key = (hs_product_id, group)
        if key not in self.product_ids:
            obj = self.hs.products.objects[hs_product_id]
            p = obj.props
            code, name = p["hs_sku"], p["name"]
            if group != p["hs_tax_rate_group_id"]:
                suffix, label = VARIANTS.get(group, (f"TAX{group}", f"tax group {group}"))
                code, name = f"{code}-{suffix}", f"{name} ({label})"
            product_id = len(self.product_ids) + 1
            zar = Decimal(p["price"])
            usd = ((zar * 100 / ZAR_PER_USD).quantize(Decimal("1"), ROUND_HALF_UP) / 100).quantize(Decimal("0.01"))
            data = {"name": name, "code": code, "unit": "", "tax": Decimal("15") if group == "1" else Decimal("0"),
                    "is_deleted": False, "is_linkable": True, "visible_to": EVERYONE,
                    "owner_id": DEFAULT_USER, "description": p.get("description", ""), "category": None,
                    "billing_frequency": "one-time", "billing_frequency_cycles": None,
                    "prices": [{"product_id": product_id, "price": price, "currency": currency,
                                "cost": Decimal("0"), "direct_cost": None, "notes": ""}
                               for currency, price in (("ZAR", zar), ("USD", usd))],
                    "custom_fields": self._customs("products", {"tax_group": group})}
            self.pd.products.insert_raw(product_id, data, _second(obj.created_ms), _second(obj.modified_ms))
            self.product_ids[key] = product_id
        return self.product_ids[key]

    # ---- deals --------------------------------------------------------------------------
    def deals(self) -> None:
        for product_id in self.hs.products.objects:   # the catalogue first, in HubSpot's order
            self.product_for(product_id, self.hs.products.objects[product_id].props["hs_tax_rate_group_id"])
        pd_ids: dict[int, int] = {}
        for obj in self.hs.deals.objects.values():
            pd_ids[obj.id] = deal_id = len(pd_ids) + 1
            self.deal(obj, deal_id)
        self.report.products = len(self.product_ids)
        self.report.deals = len(pd_ids)

    def deal(self, obj: CrmObject, deal_id: int) -> None:
        p = obj.props
        stage = p["dealstage"]
        status = STATUS.get(stage, "open")
        close_ms = parse_iso(p["closedate"])
        closed = pd_time(close_ms) if status != "open" else None
        companies = self._targets("deals", obj.id, "companies")
        contacts = self._targets("deals", obj.id, "contacts")
        defect = p.get("ll_seed_defect")
        data = {"title": p["dealname"], "owner_id": USER_IDS[p["hubspot_owner_id"]],
                "person_id": self.person_ids.get(contacts[0]) if contacts else None,
                "org_id": self.org_ids.get(companies[0]) if companies else None,
                "pipeline_id": PIPELINE_ID, "stage_id": STAGE_IDS.get(stage, LAST_STAGE),
                "value": Decimal(p["amount"]), "currency": p["deal_currency_code"], "status": status,
                "probability": None, "lost_reason": None, "visible_to": EVERYONE,
                "close_time": closed, "won_time": closed if status == "won" else None,
                "lost_time": closed if status == "lost" else None,
                "expected_close_date": pd_time(close_ms)[:10], "label_ids": [],
                "is_deleted": False, "is_archived": False,
                "stage_change_time": pd_time(obj.created_ms), "origin": "API", "origin_id": None,
                "channel": None, "channel_id": None, "arr": None, "mrr": None, "acv": None,
                "custom_fields": self._customs("deals", {"ll_seed_defect": defect})}
        self.pd.deals.insert_raw(deal_id, data, _second(obj.created_ms), _second(obj.modified_ms))
        self.report.won_deals += status == "won"
        if defect:
            self.report.bad_deals.setdefault(defect, []).append(deal_id)
        for position, line_id in enumerate(self._targets("deals", obj.id, "line_items"), start=1):
            self.deal_product(self.hs.line_items.objects[line_id], deal_id, position, p["deal_currency_code"])

    def deal_product(self, line: CrmObject, deal_id: int, position: int, currency: str) -> None:
        p = line.props
        group = p["hs_tax_rate_group_id"]
        data = {"deal_id": deal_id, "product_id": self.product_for(int(p["hs_product_id"]), group),
                "product_variation_id": None, "name": p["name"], "order_nr": position,
                "comments": "", "currency": currency,
                "discount": Decimal(p.get("hs_discount_percentage") or "0"), "discount_type": "percentage",
                "quantity": Decimal(p["quantity"]), "item_price": Decimal(p["price"]),
                "tax": Decimal("15") if group == "1" else Decimal("0"), "tax_method": "exclusive",
                "is_enabled": True, "billing_frequency": "one-time", "billing_frequency_cycles": None,
                "billing_start_date": None, "sum": Decimal(p["amount"])}
        store = self.pd.deal_products
        store.insert_raw(store.next_id, data, _second(line.created_ms), _second(line.modified_ms))
        self.report.line_items += 1


def seed_pipedrive(state: PipedriveState, *, deals: int = 60, seed: int = 42, bad: bool = True,
                   now: datetime | None = None, xero: XeroState | None = None) -> SeedReport:
    """Fill an (empty) Pipedrive emulator with the SME books `seed_books` makes for HubSpot.

    Deterministic for (seed, deals, bad, now's day). Pass `xero` to seed the accounting side of
    a Pipedrive + Xero pair too (its contacts are those the HubSpot pairing gets).
    """
    hubspot = HubSpotState()
    books = seed_books(hubspot, xero if xero is not None else XeroState(), deals=deals, seed=seed,
                       bad=bad, now=now)
    translator = _Translator(hubspot, state)
    collecting = gc.isenabled()
    gc.disable()   # tens of thousands of small dicts: cyclic GC passes would double the time
    try:
        with state.lock:
            translator.organizations()
            translator.persons()
            translator.deals()
            for store in (*state.stores.values(), state.deal_products):
                store.reindex()
    finally:
        if collecting:
            gc.enable()
    report = translator.report
    report.xero_contacts = list(books.xero_contacts)
    report.bad_deals = {kind: report.bad_deals.get(kind, []) for kind in books.bad_deals}
    return report
