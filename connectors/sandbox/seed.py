"""Dummy books of a South African SME, deterministic by seed, written straight into state.

HubSpot side: companies (SA names, VAT numbers, Johannesburg/Cape Town/Durban addresses, payment
terms, a few USD export customers), contacts, products, deals across every stage (about half won)
with 1–5 line items each — ZAR mostly, some USD, discounts on some lines, tax groups standard /
zero-rated / exempt / export — and `amount` equal to the sum of line net amounts to the cent.
Xero side: the org, tax rates, accounts and currencies (xero_reference) plus a few contacts that
already exist in the books, one of them under a slightly different name.

With `bad=True` some won deals are defective on purpose, one kind each (see BAD_DEAL_KINDS); each
carries `ll_seed_defect=<kind>` so tests can find them. No HTTP is used: 100,000 deals seed in a
few seconds.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from connectors.sandbox import seed_data as data
from connectors.sandbox.hubspot_schema import DEAL_STAGES, OWNER_IDS
from connectors.sandbox.hubspot_state import HubSpotState
from connectors.sandbox.xero_reference import ZAR_PER_USD
from connectors.sandbox.xero_state import XeroState

BAD_DEAL_KINDS = [
    "no_company",          # won deal without any company association
    "negative_amount",     # amount below zero
    "unknown_currency",    # deal_currency_code "XXX"
    "no_line_items",       # no line item associations at all
    "lines_mismatch",      # line net amounts do not add up to the deal amount
    "unknown_tax_group",   # a line item with hs_tax_rate_group_id "99"
    "malformed_vat",       # the deal's company has a malformed VAT number
]
DAY_MS = 86_400_000
OPEN_STAGES = [s for s in DEAL_STAGES if s not in ("closedwon", "closedlost")]


@dataclass
class SeedReport:
    """What was seeded, for tests and the demo's opening screen."""

    companies: int = 0
    contacts: int = 0
    products: int = 0
    deals: int = 0
    line_items: int = 0
    won_deals: int = 0
    bad_deals: dict[str, list[int]] = field(default_factory=dict)
    xero_contacts: list[str] = field(default_factory=list)


def _cents(value: int) -> str:
    """Integer cents as HubSpot's decimal string: -150000 -> "-1500.00"."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


def _tenths(value: int) -> str:
    """Tenths as a short decimal string: 25 -> "2.5", 40 -> "4", 125 -> "12.5"."""
    return str(value // 10) if value % 10 == 0 else f"{value // 10}.{value % 10}"


class _Seeder:
    def __init__(self, hubspot: HubSpotState, xero: XeroState, seed: int, now_ms: int) -> None:
        self.hs = hubspot
        self.xero = xero
        self.rng = random.Random(seed)
        self.now = now_ms
        self.report = SeedReport()
        self.ids = {name: store.next_id for name, store in hubspot.stores.items()}
        self.companies: list[tuple[int, dict[str, str], list[int]]] = []
        self.products: list[tuple[int, tuple[str, str, str, str, int]]] = []
        self.product_weights: list[int] = []
        self.unit_cents: dict[tuple[str, str], int] = {}
        self.last_modified = 0

    def _next_id(self, object_type: str) -> int:
        value = self.ids[object_type]
        self.ids[object_type] += 1
        return value

    def _insert(self, object_type: str, props: dict[str, str], created: int, modified: int) -> int:
        object_id = self._next_id(object_type)
        self.hs.stores[object_type].insert_raw(object_id, props, created, modified)
        return object_id

    # ---- reference objects --------------------------------------------------------------
    def company_names(self, count: int) -> list[str]:
        combos = [(p, i) for p in data.PREFIXES for i in data.INDUSTRIES]
        self.rng.shuffle(combos)
        names = []
        for n in range(count):
            prefix, industry = combos[n % len(combos)]
            suffix = self.rng.choice(data.SUFFIXES)
            base = f"{prefix} {industry}"
            if n >= len(combos):
                base = f"{base} {data.AREAS[(n // len(combos) - 1) % len(data.AREAS)]}"
                if n >= len(combos) * (len(data.AREAS) + 1):
                    base = f"{base} {n // (len(combos) * (len(data.AREAS) + 1)) + 1}"
            names.append(f"{base} {suffix}".strip())
        return names

    def seed_companies(self, count: int) -> None:
        rng = self.rng
        for name in self.company_names(count):
            created = self.now - rng.randint(400, 900) * DAY_MS - rng.randint(0, DAY_MS)
            slug = "".join(ch for ch in name.lower().split(" (")[0] if ch.isalnum() or ch == " ").replace(" ", "")
            domain = f"{slug}.example.co.za"
            foreign = rng.random() < 0.08
            props = {"name": name, "domain": domain, "billing_email": f"accounts@{domain}",
                     "payment_terms": rng.choices(["7", "30", "60"], [2, 6, 2])[0],
                     "industry": "OTHER"}
            if foreign:
                city, country, phone = rng.choice(data.FOREIGN)
                props.update(address=f"{rng.randint(1, 300)} Harbour Street", city=city, zip=str(rng.randint(10000, 99999)),
                             country=country, phone=f"{phone} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                             currency="USD")
            else:
                city, province, (lo, hi), area, streets = rng.choices(data.CITIES, data.CITY_WEIGHTS)[0]
                props.update(address=f"{rng.randint(1, 250)} {rng.choice(streets)}", city=city,
                             state=province, zip=f"{rng.randint(lo, hi):04d}", country="South Africa",
                             phone=f"+27 {area[1:]} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                             currency="ZAR", vat_number=f"4{rng.randint(0, 999_999_999):09d}")
            company_id = self._insert("companies", props, created, created + rng.randint(0, 30) * DAY_MS)
            props = {**props, "short": name.split(" (")[0]}   # a local copy; "short" is not stored
            contact_ids = [self.seed_contact(company_id, domain, props["phone"], created, primary=(k == 0))
                           for k in range(rng.choice((1, 1, 2)))]
            self.companies.append((company_id, props, contact_ids))
        self.report.companies = len(self.companies)

    def seed_contact(self, company_id: int, domain: str, phone: str, created: int, primary: bool) -> int:
        first, last = self.rng.choice(data.FIRST_NAMES), self.rng.choice(data.LAST_NAMES)
        email = f"{first}.{last.replace(' ', '')}@{domain}".lower()
        props = {"firstname": first, "lastname": last, "email": email, "phone": phone,
                 "jobtitle": self.rng.choice(data.JOB_TITLES)}
        contact_id = self._insert("contacts", props, created, created + self.rng.randint(0, 20) * DAY_MS)
        self.hs.associations.add_raw("contacts", contact_id, "companies", company_id, primary)
        self.report.contacts += 1
        return contact_id

    def seed_products(self) -> None:
        created = self.now - 900 * DAY_MS
        for product in data.PRODUCTS:
            sku, name, price, group, _ = product
            product_id = self._insert("products", {"name": name, "hs_sku": sku, "price": price,
                                                   "hs_tax_rate_group_id": group,
                                                   "description": name}, created, created)
            self.products.append((product_id, product))
        total = 0
        for product in data.PRODUCTS:
            total += product[4]
            self.product_weights.append(total)
            zar = int(Decimal(product[2]) * 100)
            self.unit_cents[(product[0], "ZAR")] = zar
            self.unit_cents[(product[0], "USD")] = int((Decimal(zar) / ZAR_PER_USD).quantize(Decimal("1"), ROUND_HALF_UP))
        self.report.products = len(self.products)

    # ---- deals --------------------------------------------------------------------------
    def seed_deal(self, defect: str | None = None, company: tuple | None = None) -> int:
        rng = self.rng
        company_id, company_props, contacts = company or rng.choice(self.companies)
        currency = company_props["currency"]
        stage = "closedwon" if defect else rng.choices(
            ["closedwon", "closedlost", "open"], [50, 10, 40])[0]
        if stage == "open":
            stage = rng.choice(OPEN_STAGES)
        created = self.now - rng.randint(3, 365) * DAY_MS - rng.randint(0, DAY_MS)
        if stage in ("closedwon", "closedlost"):   # closed between creation and an hour ago
            close = created + rng.randint(0, max(0, min(60 * DAY_MS, self.now - 7_200_000 - created)))
        else:
            close = self.now + rng.randint(5, 90) * DAY_MS
        if stage in ("closedwon", "closedlost"):   # last touched around closing
            modified = close + rng.randint(0, max(0, min(3 * DAY_MS, self.now - 3_600_000 - close)))
        else:                                       # open: touched some time since creation
            modified = created + rng.randint(0, max(0, self.now - 3_600_000 - created))
        if created <= self.last_modified < self.now and rng.random() < 0.03:
            modified = self.last_modified              # bulk edits share a stamp: cursors must cope
        self.last_modified = modified
        lines = self.make_lines(currency, company_props.get("country") != "South Africa", created,
                                modified, defect)
        total = sum(net for net, _ in lines)
        amount = total
        if defect == "negative_amount":
            amount = -total if total else -150_000
        elif defect == "lines_mismatch":
            amount = total + 10_000
        elif defect == "no_line_items":
            amount = rng.randint(1000, 20000) * 100
        main = lines[0][1]["name"] if lines else "Services"
        closing = datetime.fromtimestamp(close / 1000, tz=timezone.utc)
        props = {"dealname": f"{company_props['short']} - {main} ({closing.strftime('%b %Y')})",
                 "dealstage": stage, "pipeline": "default", "amount": _cents(amount),
                 "closedate": closing.strftime("%Y-%m-%dT%H:%M:%S.") + f"{close % 1000:03d}Z", "hubspot_owner_id": rng.choice(OWNER_IDS),
                 "deal_currency_code": "XXX" if defect == "unknown_currency" else currency}
        if defect:
            props["ll_seed_defect"] = defect
        deal_id = self._insert("deals", props, created, modified)
        assoc = self.hs.associations
        if defect != "no_company":
            assoc.add_raw("deals", deal_id, "companies", company_id, True)
            if contacts:
                assoc.add_raw("deals", deal_id, "contacts", contacts[0])
        for _, line_props in lines:
            line_id = self._insert("line_items", line_props, created, created)
            assoc.add_raw("deals", deal_id, "line_items", line_id)
        self.report.deals += 1
        self.report.line_items += len(lines)
        self.report.won_deals += stage == "closedwon"
        return deal_id

    def make_lines(self, currency: str, export: bool, created: int, modified: int,
                   defect: str | None) -> list[tuple[int, dict[str, str]]]:
        """(net amount in cents, line item properties) per line.

        Integer arithmetic in cents and tenths keeps 100,000-deal seeding fast and exact:
        net = round_half_up(price × quantity × (1 − discount/100)).
        """
        rng = self.rng
        if defect == "no_line_items":
            return []
        lines = []
        for position in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5))):
            product_id, (sku, name, price, group, _) = rng.choices(self.products, cum_weights=self.product_weights)[0]
            unit_cents = self.unit_cents[(sku, currency)]
            quantity_tenths = rng.choice((15, 25, 40, 80)) if sku in data.HOURLY and rng.random() < 0.5 \
                else rng.randint(1, 20) * 10
            discount_tenths = rng.choice((50, 100, 125, 150)) if rng.random() < 0.25 else 0
            numerator = unit_cents * quantity_tenths * (1000 - discount_tenths)
            net = (2 * numerator + 10_000) // 20_000          # / (10 × 1000), half up
            tax_group = "4" if export else group
            if defect == "unknown_tax_group" and position == 0:
                tax_group = "99"
            props = {"name": name, "hs_sku": sku, "quantity": _tenths(quantity_tenths),
                     "price": _cents(unit_cents), "amount": _cents(net), "hs_product_id": str(product_id),
                     "hs_tax_rate_group_id": tax_group,
                     "hs_tax_label": data.TAX_LABELS.get(tax_group, "Unknown"),
                     "hs_line_item_currency_code": currency}
            if discount_tenths:
                props["hs_discount_percentage"] = _tenths(discount_tenths)
            lines.append((net, props))
        return lines

    def seed_bad_deals(self, per_kind: int) -> None:
        for kind in BAD_DEAL_KINDS:
            ids = self.report.bad_deals.setdefault(kind, [])
            for _ in range(per_kind):
                company = None
                if kind == "malformed_vat":
                    company = self.malformed_vat_company()
                elif kind == "unknown_currency":
                    company = next(c for c in self.companies if c[1]["currency"] == "ZAR")
                ids.append(self.seed_deal(defect=kind, company=company))

    def malformed_vat_company(self) -> tuple[int, dict[str, str], list[int]]:
        created = self.now - 200 * DAY_MS
        props = {"name": f"Vaal Hardware Wholesalers {len(self.companies) + 1} CC",
                 "domain": "vaalhardware.example.co.za", "billing_email": "accounts@vaalhardware.example.co.za",
                 "payment_terms": "30", "address": "7 Voortrekker Road", "city": "Johannesburg",
                 "state": "Gauteng", "zip": "2001", "country": "South Africa", "phone": "+27 11 555 0199",
                 "currency": "ZAR", "vat_number": self.rng.choice(["VAT-4123", "41234567", "5123456789X"])}
        company_id = self._insert("companies", props, created, created)
        props = {**props, "short": props["name"]}
        contact = self.seed_contact(company_id, props["domain"], props["phone"], created, primary=True)
        entry = (company_id, props, [contact])
        self.report.companies += 1
        return entry

    # ---- Xero ---------------------------------------------------------------------------
    def seed_xero(self) -> None:
        books = self.xero.default_books
        domestic = [c for c in self.companies if c[1]["currency"] == "ZAR"][:5]
        for position, (_, props, _) in enumerate(domestic):
            name = props["name"]
            if position == 4:   # the same customer, captured by hand a little differently
                name = name.replace("(Pty) Ltd", "Pty Ltd") if "(Pty) Ltd" in name else f"{name} (Pty) Ltd"
            books.add_contact(name, EmailAddress=props["billing_email"], TaxNumber=props.get("vat_number", ""),
                              IsCustomer=True, DefaultCurrency="ZAR",
                              Addresses=[{"AddressType": "STREET", "AddressLine1": props["address"],
                                          "City": props["city"], "PostalCode": props["zip"],
                                          "Country": props["country"]}],
                              PaymentTerms={"Sales": {"Day": int(props["payment_terms"]),
                                                      "Type": "DAYSAFTERBILLDATE"}})
            self.report.xero_contacts.append(name)
        for name in data.XERO_SUPPLIERS:
            books.add_contact(name, IsSupplier=True, EmailAddress=f"accounts@{name.split()[0].lower()}.example.co.za")
            self.report.xero_contacts.append(name)


def seed_books(hubspot_state: HubSpotState, xero_state: XeroState, *, deals: int = 60, seed: int = 42,
               bad: bool = True, now: datetime | None = None) -> SeedReport:
    """Fill both emulators with a realistic SA SME's books; deterministic for (seed, now's day).

    `now` anchors every date (default: today at 00:00 UTC, so reruns on one day are identical).
    """
    anchor = now or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    seeder = _Seeder(hubspot_state, xero_state, seed, int(anchor.timestamp() * 1000))
    collecting = gc.isenabled()
    gc.disable()   # hundreds of thousands of small dicts: cyclic GC passes would double the time
    try:
        with hubspot_state.lock, xero_state.lock:
            _run(seeder, hubspot_state, deals, bad)
    finally:
        if collecting:
            gc.enable()
            if deals > 5_000:
                gc.collect()   # pay the one full pass over the new objects now, not mid-benchmark
    return seeder.report


def _run(seeder: _Seeder, hubspot_state: HubSpotState, deals: int, bad: bool) -> None:
    seeder.seed_products()
    seeder.seed_companies(max(8, deals // 8))
    per_kind = max(1, deals // 2000) if bad else 0
    bad_total = per_kind * len(BAD_DEAL_KINDS) if deals >= 2 * len(BAD_DEAL_KINDS) else 0
    for _ in range(deals - bad_total):
        seeder.seed_deal()
    if bad_total:
        seeder.seed_bad_deals(per_kind)
    for store in hubspot_state.stores.values():
        store.reindex()
    seeder.seed_xero()
