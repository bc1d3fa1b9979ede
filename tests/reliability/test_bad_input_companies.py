"""CRM companies through the finance-ready path: `party_from_fields` and the contact gate.

Why: a company that cannot become an accounting contact holds back every deal of that company,
so its exception item must say what to fix in a sentence sales-ops can read — and a broken
company next to good ones must not stop them, or change what they become.
"""

from __future__ import annotations

from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_checks import floats_in, message_unreadable, problem_unreadable, reason_codes
from badinput_companies import BROKEN_KINDS, broken_companies, finance_ready, good_companies, scrambled_companies
from badinput_corruptions import UNPARSEABLE
from badinput_setup import CRMS
from badinput_tally import tried

KNOWN_REASONS = reason_codes("contact_to_accounting_contact.yaml") | {UNPARSEABLE}


@st.composite
def company_pages(draw):
    ids = (f"co-{n}" for n in count(1))
    crm = draw(st.sampled_from(CRMS))
    goods = [draw(good_companies(next(ids), crm)) for _ in range(draw(st.integers(1, 3)))]
    broken = [draw(broken_companies(next(ids), crm, kind)) for kind in BROKEN_KINDS]  # every kind, every page
    scrambled = [draw(scrambled_companies(next(ids), crm)) for _ in range(draw(st.integers(0, 3)))]
    order = draw(st.permutations(goods + [b.company for b in broken] + scrambled))
    return goods, broken, scrambled, order


@settings(max_examples=12)  # two gate calls each: the page, and its good companies alone
@given(company_pages())
def test_broken_companies_wait_with_a_readable_reason_and_good_ones_become_the_same_parties(company_gate, page):
    goods, broken, scrambled, order = page
    tried("companies: finance-ready path [pages]")
    tried("companies: finance-ready path [good companies]", len(goods))
    tried("companies: finance-ready path [broken companies]", len(broken))
    tried("companies: finance-ready path [scrambled companies]", len(scrambled))
    outcome = finance_ready(order, company_gate)
    alone = finance_ready(goods, company_gate) if broken or scrambled else outcome
    for good in goods:
        assert outcome.parties.get(good.id) == alone.parties.get(good.id) == good.expected, outcome.named.get(good.id)
        assert not floats_in(outcome.parties[good.id])
    for bad in broken:
        cid = bad.company.id
        assert cid in outcome.problems and cid not in outcome.parties, f"{bad.label} {bad.value!r:.60} passed"
        problem = outcome.problems[cid]
        assert problem_unreadable(problem, KNOWN_REASONS) is None, problem_unreadable(problem, KNOWN_REASONS)
        named = outcome.named[cid]
        assert any(bad.explains(*reason) for reason in named), f"{bad.label} ({bad.value!r:.60}) explained by none of {named}"
    for company in scrambled:
        assert (company.id in outcome.parties) != (company.id in outcome.problems)
        if company.id in outcome.problems:
            assert problem_unreadable(outcome.problems[company.id], KNOWN_REASONS) is None
        else:
            assert not floats_in(outcome.parties[company.id])
    for problem in outcome.problems.values():
        for part in problem.detail.split("; "):
            assert message_unreadable(part) is None, message_unreadable(part)
