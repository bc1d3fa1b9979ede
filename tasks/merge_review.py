"""Customer merges a person decides: a company that may already be an accounting contact (several
candidates, or only a weak match) gets an approval request under contact-to-accounting-contact.

Approved: the company is linked to the chosen contact (the only candidate, or the one the approver
picked). Rejected: they are different customers, so a new contact is created. Until then the company
waits in the exception queue as `customer_merge_review`, and so do its deals.
"""

from __future__ import annotations

from ledgerlink.customer_spec import CustomerSyncSpec
from ledgerlink.matching import MatchResult
from ledgerlink.model import Party
from ledgerlink.review import fired_rules
from ledgerlink.store.tables import ApprovalRequest, ApprovalStatus
from tasks.context import HandoffContext
from tasks.review import NewRequest, open_requests

CREATE_NEW = ""  # the decision "a different customer": create a new contact


def merge_decisions(ctx: HandoffContext, spec: CustomerSyncSpec, ambiguous: dict[str, tuple[Party, MatchResult]],
                    checksums: dict[str, str]) -> tuple[dict[str, str], dict[str, ApprovalRequest]]:
    """(company id -> accounting contact id to link, or CREATE_NEW; the requests those came from).

    Companies not in the answer wait: their request is pending, or was just made.
    """
    review = spec.review
    if review is None or not ambiguous:
        return {}, {}
    latest = ctx.store.approvals.latest_for(ctx.tenant.name, spec.name, list(ambiguous))
    decided, used, wanted = {}, {}, []
    for cid, (party, result) in ambiguous.items():
        request = latest.get(cid)
        if request is not None and request.checksum == checksums[cid]:
            if request.status == ApprovalStatus.APPROVED.value:
                decided[cid], used[cid] = chosen_contact(request), request
                continue
            if request.status == ApprovalStatus.REJECTED.value:
                decided[cid], used[cid] = CREATE_NEW, request
                continue
            if request.status == ApprovalStatus.PENDING.value:
                ctx.counts["review_pending"] += 1
                continue
        facts = {"merge_candidates": len(result.candidates), "weak_match": "weak" in (result.rule or "")}
        fired = fired_rules(review, facts)
        if fired:
            wanted.append(NewRequest("company", cid, checksums[cid], fired, merge_context(review, fired, party,
                                                                                          result), request))
    open_requests(ctx, review, wanted, handoff=spec.name)
    return decided, used


def needs_a_pick(request: ApprovalRequest) -> bool:
    """An approval must name the contact when several are candidates (Slack's button cannot)."""
    return request.record_type == "company" and len(request.context.get("candidates") or []) > 1


def chosen_contact(request: ApprovalRequest) -> str:
    picked = (request.corrections or {}).get("accounting_contact_id")
    if picked:
        return picked
    [only] = request.context["candidates"]  # approval without a pick is allowed with one candidate only
    return only["id"]


def merge_context(review, fired: list[str], party: Party, result: MatchResult) -> dict:
    candidates = [{"id": c.accounting_id, "name": c.name or "(no name)"} for c in result.candidates[:10]]
    return {
        "customer": party.name, "customer_crm_id": party.crm_id,
        "rule_name": ", ".join(fired),
        "rule_reason": "; ".join(review.rules[name].reason for name in fired) + f" ({result.rule})",
        "amounts": [], "warnings": [], "crm_url": None,
        "lines": [f"candidate: {c['name']} (contact {c['id']})" for c in candidates]
                 + [f"CRM company: {party.name}" + (f", VAT {party.vat_number}" if party.vat_number else "")],
        "candidates": candidates,
    }
