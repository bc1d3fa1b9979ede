"""One deal at a time through the pure mapping steps, many times over (no gate: these are fast).

Why: `map_deals` only catches MappingError. Any other exception from `draft_from_bundle` or
`gate_row` stops the whole page — every good deal on it waits for a person to notice a crashed run.
And a good deal, however odd its text, must map to exactly the invoice its numbers say.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_checks import check_invoice, check_row, message_unreadable
from badinput_corruptions import scramble
from badinput_deals import good_deals
from badinput_page import _triggered
from badinput_setup import TZ
from badinput_tally import tried
from ledgerlink.mapping import MappingError, build_invoice, draft_from_bundle, gate_row, party_from_fields, read_fields
from ledgerlink.model import Money


@st.composite
def scrambled_deals(draw):
    deal = draw(good_deals("d-1"))
    return deal.pair, draw(scramble(deal.bundle(), deal.pair))


@settings(max_examples=300)
@given(scrambled_deals())
def test_any_hostile_deal_becomes_a_gate_row_or_a_mapping_error_naming_its_field(case):
    pair, bundle = case
    tried("deal mapping: hostile deal -> row or MappingError")
    _triggered(bundle, pair)  # the trigger check on the deal alone must not raise either
    try:
        row = gate_row(draft_from_bundle(bundle, pair.mapping, TZ), pair.mapping, pair.rules, pair.active)
    except MappingError as err:
        assert err.field_name and err.field_name in str(err)
        assert message_unreadable(str(err)) is None, message_unreadable(str(err))
        return
    check_row(row)


@settings(max_examples=200)
@given(good_deals("d-1"))
def test_good_deal_maps_to_the_invoice_its_numbers_say_to_the_cent(deal):
    tried("deal mapping: good deal -> exact invoice")
    pair = deal.pair
    draft = draft_from_bundle(deal.bundle(), pair.mapping, TZ)
    row = gate_row(draft, pair.mapping, pair.rules, pair.active)
    check_row(row)
    assert row["amount_cents"] == row["lines_total_cents"] == Money(deal.amount, deal.currency).to_minor()
    assert row["unknown_tax_code"] is None and (row["issue_date"], row["due_date"]) == (deal.issue_date, deal.due_date)
    customer = party_from_fields(read_fields({"company": deal.bundle()["company"]}, pair.customer_fields))
    invoice = build_invoice(draft, row, pair.mapping, pair.rules, pair.active, customer)
    check_invoice(invoice, row)
    assert invoice.reference == f"DEAL-{deal.deal_id}" and invoice.currency == deal.currency
    assert [(line.net_amount.amount, line.tax_amount.amount) for line in invoice.lines] == deal.expected_lines()
    assert [line.tax_type for line in invoice.lines] == [pair.tax_type(deal.treatment(line)) for line in deal.lines]
    assert invoice.total.amount == sum(net + vat for net, vat in deal.expected_lines())
