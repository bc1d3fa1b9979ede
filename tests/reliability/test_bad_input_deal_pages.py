"""Whole pages of deals — good, broken and scrambled mixed — through mapping, the gate and invoicing.

Why: a page is the unit that fails together. One hostile deal must cost exactly one exception
item with a reason its owner can act on; it must not stop the page, hide among the passed deals,
or change a single cent on the good deals' invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_checks import check_invoice, message_unreadable, problem_unreadable, reason_codes
from badinput_corruptions import KINDS, UNPARSEABLE, Breaking, breaking, scramble
from badinput_deals import GoodDeal, good_deals
from badinput_page import run_page
from badinput_setup import PAIRS, Pair
from badinput_tally import tried

KNOWN_REASONS = reason_codes("won_deal_to_invoice.yaml") | {UNPARSEABLE}


@dataclass
class Page:
    pair: Pair
    goods: list[GoodDeal]
    bads: list[tuple[dict, Breaking]]
    scrambled: list[dict]
    bundles: list[dict]  # all of them, in page order


@st.composite
def pages(draw, every_kind: bool = False) -> Page:
    """Good, broken and scrambled deals of one CRM × accounting pair, shuffled; with `every_kind`,
    one broken deal for each kind of breakage (a gate call costs the same for 5 rows or 50)."""
    pair = draw(st.sampled_from(PAIRS))
    ids = (str(n) for n in count(10_001))
    goods = [draw(good_deals(next(ids), pair)) for _ in range(draw(st.integers(1, 4)))]
    bads = []
    for kind in KINDS if every_kind else [None] * draw(st.integers(2, 6)):
        base = draw(good_deals(next(ids), pair))
        corruption = draw(breaking(base, kind))
        bundle = base.bundle()
        corruption.apply(bundle)
        bads.append((bundle, corruption))
    scrambled = [draw(scramble(draw(good_deals(next(ids), pair)).bundle(), pair))
                 for _ in range(draw(st.integers(0, 3)))]
    bundles = draw(st.permutations([g.bundle() for g in goods] + [b for b, _ in bads] + scrambled))
    return Page(pair, goods, bads, scrambled, bundles)


@settings(max_examples=6)  # two gate calls each: the page, and its good deals alone
@given(pages(every_kind=True))
def test_bad_deals_on_a_page_leave_the_good_invoices_exactly_as_without_them(deal_gate, page):
    tried("deal pages: good invoices unchanged by bad neighbours [pages]")
    tried("deal pages: good invoices unchanged by bad neighbours [good deals]", len(page.goods))
    tried("deal pages: good invoices unchanged by bad neighbours [bad + scrambled deals]",
          len(page.bads) + len(page.scrambled))
    mixed = run_page(page.bundles, page.pair, deal_gate)
    alone = run_page([g.bundle() for g in page.goods], page.pair, deal_gate)
    good_ids = [g.deal_id for g in page.goods]
    assert sorted(alone.invoices) == sorted(good_ids), {i: alone.outcome_of(i) for i in good_ids}
    assert {i: mixed.invoices.get(i) for i in good_ids} == alone.invoices
    for deal in page.goods:
        invoice = mixed.invoices[deal.deal_id]
        check_invoice(invoice, mixed.rows[deal.deal_id])
        assert [(line.net_amount.amount, line.tax_amount.amount) for line in invoice.lines] == deal.expected_lines()
        assert invoice.total.amount == sum(net + vat for net, vat in deal.expected_lines())
        assert (invoice.issue_date, invoice.due_date) == (deal.issue_date, deal.due_date)
    for deal_id, invoice in mixed.invoices.items():  # scrambled deals that still passed: exact too
        check_invoice(invoice, mixed.rows[deal_id])


@settings(max_examples=8)
@given(pages(every_kind=True))
def test_every_bad_deal_waits_in_the_exception_queue_with_a_reason_its_owner_can_read(deal_gate, page):
    tried("deal pages: bad deal -> readable exception item [pages]")
    tried("deal pages: bad deal -> readable exception item [bad deals]", len(page.bads))
    tried("deal pages: bad deal -> readable exception item [scrambled deals]", len(page.scrambled))
    outcome = run_page(page.bundles, page.pair, deal_gate)
    for bundle, corruption in page.bads:
        deal_id = bundle["deal"]["id"]
        assert deal_id in outcome.problems, f"{corruption.label} {corruption.value!r:.80}: {outcome.outcome_of(deal_id)}"
        problem = outcome.problems[deal_id]
        assert problem_unreadable(problem, KNOWN_REASONS) is None, problem_unreadable(problem, KNOWN_REASONS)
        named = outcome.named[deal_id]
        assert any(corruption.explains(*reason) for reason in named), \
            f"{corruption.label} ({corruption.value!r:.60}) explained by none of {named}"
    for bundle in page.scrambled:
        deal_id = bundle["deal"]["id"]
        assert outcome.outcome_of(deal_id) != "lost"
        if deal_id in outcome.problems:
            assert problem_unreadable(outcome.problems[deal_id], KNOWN_REASONS) is None
    for deal_id, problem in outcome.problems.items():
        for part in problem.detail.split("; "):
            assert message_unreadable(part) is None, message_unreadable(part)
        if problem.reason_code == UNPARSEABLE:
            assert outcome.named[deal_id][0][1] in problem.detail  # the field is named, in words
