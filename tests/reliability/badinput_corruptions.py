"""Ways to break a good deal, each with the reasons that may rightly be given for it.

A `Breaking` corruption makes a deal unusable on its own — no other change can repair it — so a
record carrying one must end in the exception queue, and the reason given must be one of those
listed (`unparseable_field` naming the field, or a gate reason code). `scramble` is the other
kind: any field, any hostile value, no expectation except that the outcome is readable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from badinput_deals import GoodDeal
from badinput_setup import CURRENCIES
from badinput_values import (DATE_LIKE, EMAILS, HUGE_DIGITS, INJECTIONS, UNICODE, hostile_value, not_a_number,
                             wrong_types)
from ledgerlink.money import minor_units

UNPARSEABLE = "unparseable_field"
KINDS = ("amount unreadable", "amount enormous", "amount missing", "amount not positive", "amount off by a cent",
         "currency missing", "currency unknown", "close date unreadable", "close date missing",
         "modified time unreadable", "payment terms unreadable", "company missing", "company name missing",
         "VAT number invalid", "no line items", "lines not a list", "line not a record", "quantity unreadable",
         "quantity missing", "quantity not positive", "quantity enormous", "unit price unreadable",
         "unit price missing", "unit price negative", "unit price enormous", "discount unreadable",
         "discount out of range", "tax code unknown")
ENORMOUS = ["1e30", "1E+400", "-1E+400", "1E+999999", HUGE_DIGITS, "9" * 30, "99999999999999999.99"]
NOT_DATES = DATE_LIKE + INJECTIONS + UNICODE + ["  ", "\t"]


@dataclass(frozen=True)
class Breaking:
    """Set `where` (a path into the bundle) to `value`; `accepted`: reasons that explain it."""

    label: str
    where: tuple
    value: object
    accepted: frozenset[tuple[str, str]]  # (reason code, text the field name must contain)

    def apply(self, bundle: dict) -> None:
        target = bundle
        for step in self.where[:-1]:
            target = target[step]
        if self.value is DELETE:
            target.pop(self.where[-1], None)
        else:
            target[self.where[-1]] = copy.deepcopy(self.value)

    def explains(self, reason_code: str, field_text: str) -> bool:
        return any(code == reason_code and needle in field_text for code, needle in self.accepted)


DELETE = object()  # as a corruption's value: remove the key (the field is missing, not empty)


def _reasons(*pairs: tuple[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset(pairs)


def _gate(*codes: str) -> frozenset[tuple[str, str]]:
    return frozenset((code, "") for code in codes)


@st.composite
def breaking(draw, deal: GoodDeal, label: str | None = None) -> Breaking:
    """One corruption that must stop `deal` (of kind `label`, or any), with the reasons that may be
    given for it."""
    pair = deal.pair
    dk = {name: ("deal", pair.path(name)[1]) for name in pair.mapping.deal}
    ck = {name: ("company", pair.path(name, "customer")[1]) for name in pair.mapping.customer}
    index = draw(st.integers(0, len(deal.lines) - 1))
    n = index + 1
    lk = {name: ("lines", index, pair.path(name, "line")[1]) for name in pair.mapping.line}
    missing = st.sampled_from([DELETE, None, ""])
    kinds = {
        "amount unreadable": (dk["amount"], not_a_number(), _reasons((UNPARSEABLE, "amount"))),
        "amount enormous": (dk["amount"], st.sampled_from(ENORMOUS), _reasons((UNPARSEABLE, "amount"))),
        "amount missing": (dk["amount"], missing, _gate("missing_amount")),
        "amount not positive": (dk["amount"], st.sampled_from(["0", "-0", "-0.00", f"-{deal.amount:f}", "-0.01"]),
                                _gate("amount_not_positive")),
        "amount off by a cent": (dk["amount"], st.just(f"{deal.amount + Decimal(1).scaleb(-minor_units(deal.currency)):f}"),
                                 _gate("lines_do_not_sum")),
        "currency missing": (dk["currency"], missing, _gate("missing_currency")),
        "currency unknown": (dk["currency"], st.one_of(
            st.sampled_from(["EUR", "XXX", "ZAR\x00", "Z A R", "R", "rand", "ZARZAR", "JPY " * 3] + INJECTIONS + UNICODE),
            wrong_types()).filter(lambda v: str(v).strip().upper() not in CURRENCIES),
            _gate("currency_not_allowed", "missing_currency") | _reasons((UNPARSEABLE, "currency"))),
        "close date unreadable": (dk["close_date"], st.one_of(st.sampled_from(NOT_DATES), wrong_types()),
                                  _reasons((UNPARSEABLE, "close_date")) | _gate("missing_issue_date")),
        "close date missing": (dk["close_date"], missing, _gate("missing_issue_date")),
        "modified time unreadable": (dk["modified_at"], st.one_of(st.sampled_from(
            ["yesterday", "2026-02-30", "/Date(abc)/", "9" * 30, HUGE_DIGITS, "31/10/2026", "\x00"]), wrong_types()),
            _reasons((UNPARSEABLE, "modified_at"))),
        "payment terms unreadable": (ck["payment_terms_days"], st.one_of(st.sampled_from(
            ["30 days", "30.5", "-1", "366", "99999", HUGE_DIGITS, "thirty", "1e2", "0x1e", "3O"] + INJECTIONS),
            wrong_types()), _reasons((UNPARSEABLE, "payment terms"))),
        "company missing": (("company",), st.sampled_from([None, {}]), _gate("missing_company")),
        "company name missing": (ck["name"], st.sampled_from([DELETE, None, "", "   ", "\t\n"]),
                                 _gate("missing_customer_name")),
        "VAT number invalid": (ck["vat_number"], st.one_of(
            st.sampled_from(["123", "41234567890", "5123456789", "412345678X", HUGE_DIGITS] + EMAILS + INJECTIONS),
            wrong_types()), _gate("invalid_vat_number") | _reasons((UNPARSEABLE, "vat"))),
        "no line items": (("lines",), st.sampled_from([[], None, DELETE]), _gate("no_line_items")),
        "lines not a list": (("lines",), st.sampled_from(["Tent x2", {"name": "Tent"}, 7, True]),
                             _reasons((UNPARSEABLE, "line"))),
        "line not a record": (("lines", index), st.sampled_from(["Tent", 5, None, [], ["Tent", "2"], True]),
                              _reasons((UNPARSEABLE, f"line {n}"))),
        "quantity unreadable": (lk["quantity"], not_a_number(), _reasons((UNPARSEABLE, f"line {n} quantity"))),
        "quantity missing": (lk["quantity"], missing, _reasons((UNPARSEABLE, f"line {n} quantity"))),
        "quantity not positive": (lk["quantity"], st.sampled_from(["0", "-0", "-1", "-0.5", "-1E+3"]),
                                  _gate("non_positive_quantity")),
        "quantity enormous": (lk["quantity"], st.sampled_from(ENORMOUS),
                              _reasons((UNPARSEABLE, f"line {n} quantity"), (UNPARSEABLE, "amount"))),
        "unit price unreadable": (lk["unit_price"], not_a_number(), _reasons((UNPARSEABLE, f"line {n} unit price"))),
        "unit price missing": (lk["unit_price"], missing, _reasons((UNPARSEABLE, f"line {n} unit price"))),
        "unit price negative": (lk["unit_price"], st.sampled_from(["-0.01", "-500.00", "-1E+3"]),
                                _gate("negative_unit_price")),
        "unit price enormous": (lk["unit_price"], st.sampled_from(ENORMOUS),
                                _reasons((UNPARSEABLE, f"line {n} unit price"), (UNPARSEABLE, "amount"))),
        "discount unreadable": (lk["discount_percent"], not_a_number(), _reasons((UNPARSEABLE, f"line {n} discount"))),
        "discount out of range": (lk["discount_percent"], st.sampled_from(["-10", "-0.01", "100.01", "150", "1E+400"]),
                                  _reasons((UNPARSEABLE, f"line {n} discount"))),
        "tax code unknown": (lk["tax_code"], st.one_of(
            st.sampled_from([DELETE, None, "", "77", "VAT15", " 1 ", "1.0", "01", "standard"] + INJECTIONS + UNICODE),
            wrong_types()).filter(lambda v: str(v) not in pair.mapping.tax_codes),
            _gate("unknown_tax_code") | _reasons((UNPARSEABLE, f"line {n} tax code"))),
    }
    assert set(kinds) == set(KINDS)
    label = label or draw(st.sampled_from(KINDS))
    where, values, accepted = kinds[label]
    return Breaking(label, where, draw(values), accepted)


@st.composite
def scramble(draw, bundle: dict, pair) -> dict:
    """`bundle` with up to four of its mapped fields (or whole parts) set to any hostile value."""
    bundle = copy.deepcopy(bundle)
    places = [("deal", pair.path(name)[1]) for name in pair.mapping.deal]
    places += [("company", pair.path(name, "customer")[1]) for name in pair.mapping.customer]
    places += [("lines", i, pair.path(name, "line")[1]) for i in range(len(bundle["lines"]))
               for name in pair.mapping.line]
    places += [("lines",)] + [("lines", i) for i in range(len(bundle["lines"]))]
    if draw(st.booleans()):  # an extract hands on a company record or none, never another shape
        bundle["company"] = draw(st.sampled_from([None, {}, {"id": "co-x"}]))
    for where in draw(st.lists(st.sampled_from(places), min_size=1, max_size=4, unique=True)):
        try:
            Breaking("scramble", where, draw(hostile_value()), frozenset()).apply(bundle)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change already replaced the part this path goes through
    return bundle
