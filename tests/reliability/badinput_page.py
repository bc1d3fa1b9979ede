"""One page of deals through the won-deal-to-invoice steps, without Prefect, HTTP or a store.

The same calls, in the same order, with the same exception handling as the handoff's tasks:
`select_won_unlinked` (trigger on the deal alone; an unreadable deal goes on), `map_deals`
(`draft_from_bundle` + `gate_row`, a MappingError becomes `unparseable_field`), `gate_candidates`
(one gate call; every failure of a row joined into its detail, the first failure's reason and
owner), the customer read as `_finance_ready` reads it (`read_fields` + `party_from_fields`), and
`build_invoices`. Anything else raised escapes: that is the crash the properties look for.
Problems are `NewException`s, because what an exception item holds is what people read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from badinput_setup import CURRENCIES, DEAL_SPEC, TZ, Pair
from ledgerlink.conditions import ConditionError
from ledgerlink.mapping import MappingError, build_invoice, draft_from_bundle, gate_row, party_from_fields, read_fields
from ledgerlink.model import Invoice
from ledgerlink.store.exception_queue import NewException


@dataclass
class PageOutcome:
    invoices: dict[str, Invoice] = field(default_factory=dict)
    problems: dict[str, NewException] = field(default_factory=dict)
    not_triggered: set[str] = field(default_factory=set)
    rows: dict[str, dict] = field(default_factory=dict)
    named: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # deal id -> (reason, field) named

    def outcome_of(self, deal_id: str) -> str:
        if deal_id in self.invoices:
            return "invoiced"
        if deal_id in self.problems:
            return f"exception {self.problems[deal_id].reason_code}"
        return "not triggered" if deal_id in self.not_triggered else "lost"


def _problem(deal_id: str, reason: str, detail: str, owner: str | None = None) -> NewException:
    return NewException("deal", deal_id, reason, detail, owner or DEAL_SPEC.owner_for(reason))


def run_page(bundles: list[dict], pair: Pair, gate) -> PageOutcome:
    """What the handoff would do with this page (every bundle must carry a unique deal id)."""
    mapping, rules, active = pair.mapping, pair.rules, pair.active
    out = PageOutcome()
    drafts = {}
    for bundle in bundles:
        deal_id = str(bundle["deal"]["id"])
        if not _triggered(bundle, pair):
            out.not_triggered.add(deal_id)
            continue
        try:
            draft = draft_from_bundle(bundle, mapping, TZ)
            row = gate_row(draft, mapping, rules, active)
        except MappingError as err:
            out.problems[deal_id] = _problem(deal_id, "unparseable_field", f"cannot read deal: {err}")
            out.named[deal_id] = [("unparseable_field", err.field_name)]
            continue
        drafts[deal_id], out.rows[deal_id] = draft, row
    if out.rows:
        result = gate.validate(list(out.rows.values()), parameters={"tenant_currencies": list(CURRENCIES)})
        for deal_id, failures in result.failed.items():
            out.problems[deal_id] = _problem(deal_id, failures[0].reason_code,
                                             "; ".join(f.message for f in failures), failures[0].owner)
            out.named[deal_id] = [(f.reason_code, f.column) for f in failures]
        passed = result.passed
    else:
        passed = []
    for deal_id in passed:
        draft = drafts[deal_id]
        company = next(b["company"] for b in bundles if str(b["deal"]["id"]) == deal_id)
        try:
            customer = party_from_fields(read_fields({"company": company}, pair.customer_fields))
        except MappingError as err:
            out.problems[deal_id] = _problem(deal_id, "unparseable_field", f"cannot read company: {err}")
            out.named[deal_id] = [("unparseable_field", err.field_name)]
            continue
        out.invoices[deal_id] = build_invoice(draft, out.rows[deal_id], mapping, rules, active, customer)
    return out


def _triggered(bundle: dict, pair: Pair) -> bool:
    deal_only = {"deal": bundle["deal"], "company": None, "lines": []}
    try:
        draft = draft_from_bundle(deal_only, pair.mapping, TZ)
        facts = {"status": draft.status.value, "stage": draft.stage, "currency": draft.currency,
                 "amount": draft.amount, "owner_id": draft.owner_id}
        return DEAL_SPEC.trigger_condition.evaluate(facts)
    except (MappingError, ConditionError):
        return True  # unreadable deals go on, so the gate can say what is wrong with them

