"""Won deals as HubSpot and Pipedrive bundles, and what their invoices must say, worked out apart.

A `GoodDeal` is generated from plain numbers (quantities, prices, discounts, tax groups) and
knows its own invoice by Decimal arithmetic done here, independently of ledgerlink: each line's
net rounded half-up to the currency's minor unit, VAT per line at its treatment's rate. Its bundle
is written through the spec's own paths for the chosen CRM, in that CRM's formats (HubSpot ISO or
epoch-millisecond text, Pipedrive 'YYYY-MM-DD HH:MM:SS'). Good does not mean tame: names, SKUs
and owners carry injection strings, RTL text, emoji and 100 kB values, numbers come padded with
spaces, VAT numbers with spaces and tabs — all things a valid deal may contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import strategies as st

from badinput_setup import CURRENCIES, PAIRS, TZ, VAT_RATE, Pair
from badinput_values import hostile_text
from ledgerlink.model import TaxTreatment
from ledgerlink.money import minor_units


_NAMED_TEXT = hostile_text().filter(lambda text: any(ch.isalnum() for ch in text))


def named_text() -> st.SearchStrategy[str]:
    """Hostile text that is still a name: it has a letter or digit somewhere."""
    return _NAMED_TEXT


@dataclass(frozen=True)
class GoodLine:
    name: str | None
    quantity: Decimal
    price: Decimal
    discount: Decimal | None
    tax_group: str
    sku: str | None
    pad: str = ""  # whitespace around number text, which a valid deal may have

    def net(self, currency: str) -> Decimal:
        factor = (Decimal(100) - (self.discount or 0)) / Decimal(100)
        return _round(self.quantity * self.price * factor, currency)


@dataclass(frozen=True)
class GoodDeal:
    pair: Pair
    deal_id: str
    name: str | None
    currency: str
    closed: datetime
    company_name: str
    vat_number: str | None
    terms: int | None
    lines: tuple[GoodLine, ...]
    owner: str | None = None
    epoch_close: bool = False
    extra_company: dict = field(default_factory=dict)

    def treatment(self, line: GoodLine) -> TaxTreatment:
        return self.pair.mapping.tax_codes[line.tax_group]

    def expected_lines(self) -> list[tuple[Decimal, Decimal]]:
        """(net, VAT) per line, in the invoice's currency, by plain Decimal arithmetic."""
        return [(line.net(self.currency), _round(line.net(self.currency) * VAT_RATE[self.treatment(line)], self.currency))
                for line in self.lines]

    @property
    def amount(self) -> Decimal:
        return sum((net for net, _ in self.expected_lines()), Decimal(0))

    @property
    def issue_date(self) -> date:
        return self.closed.astimezone(TZ).date()

    @property
    def due_date(self) -> date:
        return self.issue_date + timedelta(days=30 if self.terms is None else self.terms)

    def bundle(self) -> dict:
        """The record bundle an extract hands to mapping for this deal, in its CRM's shape."""
        pair, deal, company = self.pair, {"id": self.deal_id}, {"id": f"co-{self.deal_id}", **self.extra_company}
        _put(pair, deal, "name", self.name)
        _put(pair, deal, "stage", next(s for s, status in pair.mapping.stages.items() if status.value == "won"))
        _put(pair, deal, "amount", f"{self.amount:f}")
        _put(pair, deal, "currency", self.currency)
        _put(pair, deal, "close_date", self._close_text())
        _put(pair, deal, "modified_at", self._stamp(self.closed + timedelta(hours=1)))
        _put(pair, deal, "owner_id", self.owner)
        _put(pair, company, "name", self.company_name, "customer")
        _put(pair, company, "vat_number", self.vat_number, "customer")
        _put(pair, company, "payment_terms_days", None if self.terms is None else str(self.terms), "customer")
        lines = []
        for line in self.lines:
            raw: dict = {}
            _put(pair, raw, "name", line.name, "line")
            _put(pair, raw, "quantity", f"{line.pad}{line.quantity:f}{line.pad}", "line")
            _put(pair, raw, "unit_price", f"{line.pad}{line.price:f}", "line")
            _put(pair, raw, "discount_percent", None if line.discount is None else f"{line.discount:f}", "line")
            _put(pair, raw, "tax_code", line.tax_group, "line")
            _put(pair, raw, "sku", line.sku, "line")
            lines.append(raw)
        return {"deal": deal, "company": company, "lines": lines}

    def _close_text(self) -> str:
        if self.epoch_close and self.pair.crm == "hubspot":
            return str(int(self.closed.timestamp() * 1000))
        return self._stamp(self.closed)

    def _stamp(self, moment: datetime) -> str:
        if self.pair.crm == "pipedrive":
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _put(pair: Pair, record: dict, canonical: str, value, section: str = "deal") -> None:
    paths = {"deal": pair.mapping.deal, "customer": pair.mapping.customer, "line": pair.mapping.line}[section]
    if value is not None and canonical in paths:
        record[paths[canonical].partition(".")[2]] = value


def _round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


_QUANTITIES = st.integers(1, 500).map(Decimal) | st.decimals(Decimal("0.5"), Decimal("100"), places=3)
_PRICES = st.decimals(Decimal("1"), Decimal("250000"), places=2)
_DISCOUNTS = st.none() | st.decimals(Decimal("0"), Decimal("90"), places=2)
_MAYBE_NAME = st.none() | _NAMED_TEXT
_MAYBE_TEXT = st.none() | hostile_text()
_PADS = st.sampled_from(["", " ", "  "])
_CLOSED = st.datetimes(datetime(2000, 1, 1), datetime(2090, 12, 31), timezones=st.just(timezone.utc))
_VAT_DIGITS = st.from_regex(r"4[0-9]{9}", fullmatch=True)
_TERMS = st.none() | st.integers(0, 365)


@st.composite
def good_lines(draw, pair: Pair, currency: str) -> GoodLine:
    """A line worth at least one minor unit, so that breaking its quantity or price always changes
    the deal's sum (a free line is valid too, but would hide such a change)."""
    line = GoodLine(
        name=draw(_MAYBE_NAME),
        quantity=draw(_QUANTITIES),
        price=draw(_PRICES),
        discount=draw(_DISCOUNTS),
        tax_group=draw(st.sampled_from(sorted(pair.mapping.tax_codes))),
        sku=draw(_MAYBE_TEXT),
        pad=draw(_PADS),
    )
    return line if line.net(currency) > 0 else draw(st.nothing())


@st.composite
def good_deals(draw, deal_id: str, pair: Pair | None = None) -> GoodDeal:
    """A won deal every check must let through, for one CRM × accounting pair."""
    pair = pair or draw(st.sampled_from(PAIRS))
    vat_digits = draw(_VAT_DIGITS)
    vat = draw(st.sampled_from([None, vat_digits, f" {vat_digits[:4]} {vat_digits[4:7]}\t{vat_digits[7:]}\n"]))
    currency = draw(st.sampled_from(CURRENCIES))
    return GoodDeal(
        pair=pair,
        deal_id=deal_id,
        name=draw(_MAYBE_TEXT),
        currency=currency,
        closed=draw(_CLOSED).replace(microsecond=0),
        company_name=draw(_NAMED_TEXT),
        vat_number=vat,
        terms=draw(_TERMS),
        lines=tuple(draw(st.lists(good_lines(pair, currency), min_size=1, max_size=4))),
        owner=draw(_MAYBE_TEXT),
        epoch_close=draw(st.booleans()),
    )
