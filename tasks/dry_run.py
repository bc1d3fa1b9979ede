"""Connectors for a dry run: every read goes to the vendor, every write goes into the plan instead.

Wrapping the two protocols (not the handoffs) keeps one code path: the run reads both sides, maps,
gates and routes exactly as a real run does, and only the final writes are diverted. A diverted
create answers like the vendor would (ok, with a placeholder id), so what follows in the run —
links, write-backs, later pages — plans on as if it had happened. An update is read first, so the
plan shows the fields that would change, before → after (personal values masked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledgerlink.model import Invoice, Party, WriteResult
from ledgerlink.plan import Plan
from ledgerlink.privacy import PERSONAL_KEYS, mask_value

PLACEHOLDER = "dry-run:"


def _shown(name: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    text = str(value)
    return mask_value(text) if name.lower() in PERSONAL_KEYS or "@" in text else text


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    return {name: [_shown(name, before.get(name)), _shown(name, value)] for name, value in after.items()
            if str(before.get(name) or "") != str(value or "")}


class _Reads:
    """Everything not diverted goes to the real connector."""

    def __init__(self, inner: Any, plan: Plan) -> None:
        self._inner = inner
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class PlanningCrm(_Reads):
    def batch_update(self, object_type: str, updates: Mapping[str, Mapping[str, str]]) -> list[WriteResult]:
        current = self._inner.batch_read(object_type, list(updates), sorted({p for v in updates.values() for p in v}))
        results = []
        for record_id, values in updates.items():
            record = current.get(str(record_id))
            if record is None:
                results.append(WriteResult(str(record_id), False, errors=(f"{object_type} {record_id} not found",)))
                continue
            changes = _diff(record.get("properties") or {}, {k: _placeholder_free(v) for k, v in values.items()})
            if changes:
                self._plan.add("update", "crm", object_type.rstrip("s"), str(record_id), changes=changes)
            results.append(WriteResult(str(record_id), True, target_id=str(record_id)))
        return results


def _placeholder_free(value: Any) -> Any:
    """A value made from a planned record's placeholder id reads as what the vendor will assign."""
    return "(assigned on creation)" if isinstance(value, str) and PLACEHOLDER in value else value


class PlanningAccounting(_Reads):
    def __init__(self, inner: Any, plan: Plan) -> None:
        super().__init__(inner, plan)
        self._contacts: dict[str, Any] | None = None

    def _contact(self, contact_id: str | None) -> Any:
        """The contact as it stands, by its accounting id (the directory, read once per dry run)."""
        if self._contacts is None:
            self._contacts = {c.id.lower(): c for page in self._inner.contacts_modified_since(None) for c in page}
        return self._contacts.get(str(contact_id or "").lower())

    def create_invoices(self, invoices: Sequence[Invoice], idempotency_key: str) -> list[WriteResult]:
        for invoice in invoices:
            self._plan.add("create", "accounting", "invoice", invoice.reference,
                           f"deal {invoice.deal_id}: {invoice.currency} {invoice.total.rounded().amount:,.2f} "
                           f"({len(invoice.lines)} lines, VAT {invoice.total_tax.rounded().amount:,.2f}) for "
                           f"{mask_value(invoice.customer.name)}")
        return [WriteResult(i.reference, True, target_id=f"{PLACEHOLDER}{i.reference}",
                            number=f"{PLACEHOLDER}{i.reference}") for i in invoices]

    def create_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        for party in parties:
            self._plan.add("create", "accounting", "contact", party.crm_id or "",
                           f"{mask_value(party.name)} ({party.currency or 'home currency'})")
        return [WriteResult(p.crm_id or "", True, target_id=f"{PLACEHOLDER}{p.crm_id}") for p in parties]

    def update_contacts(self, parties: Sequence[Party], idempotency_key: str) -> list[WriteResult]:
        for party in parties:
            known = self._contact(party.accounting_id)
            before = {"name": known.name, "email": known.email, "vat_number": known.tax_number} if known else {}
            after = {"name": party.name, "email": party.email, "vat_number": party.vat_number}
            self._plan.add("update", "accounting", "contact", party.crm_id or "",
                           f"contact {party.accounting_id}", _diff(before, after))
        return [WriteResult(p.crm_id or "", True, target_id=p.accounting_id) for p in parties]


def plan_exceptions(plan: Plan, problems: list[dict]) -> None:
    """The records a run parked in the exception queue, with reason and owner."""
    for problem in problems:
        plan.add("exception", "ledgerlink", problem.get("type", "record"), problem["record"],
                 f"{problem['reason']} (owner {problem['owner']}): {problem['detail']}")
