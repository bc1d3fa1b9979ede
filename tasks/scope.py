"""Keeping a handoff to its scope (`ledgerlink.scope_spec`), and widening it without losing anyone.

A record outside the scope is counted and remembered (its id, under the scope's version) and
nothing else: no write, no exception item. The cursor still moves past it, so when the scope is
widened (a new version) the remembered records are read again by id and go through as if new —
the rest of the pilot's records are already linked and skip, so nothing is done twice.
"""

from __future__ import annotations

from ledgerlink.mapping import MappingError, read_fields
from ledgerlink.money import MoneyError, to_decimal
from tasks.context import HandoffContext

SCOPE_FIELDS = ("owner_id", "pipeline", "amount", "created_at")


def _memory(ctx: HandoffContext) -> str:
    return f"{ctx.name}:out-of-scope"


def deal_fields(ctx: HandoffContext, deal: dict) -> dict:
    """The canonical values a scope reads from a flat CRM deal (paths from the tenant's mapping)."""
    fields = read_fields({"deal": deal}, {k: v for k, v in ctx.mapping.deal.items() if k in SCOPE_FIELDS})
    try:
        fields["amount"] = None if fields.get("amount") is None else to_decimal(fields["amount"], "amount")
    except (MoneyError, MappingError):
        fields["amount"] = None
    return fields


def keep_in_scope(ctx: HandoffContext, items: list, flat_of, fields_of, company_of=None) -> list:
    """The items inside the scope; the others are counted and remembered under its version.

    `flat_of(item)` is the CRM record as one flat dict with its `id`, `fields_of(flat)` its
    canonical values, and `company_of(item)` its CRM company id (without it, the company
    criterion waits: associations are read later).
    """
    scope = ctx.spec.scope
    if scope.is_everything or not items:
        return items
    kept, outside = [], []
    for item in items:
        flat = flat_of(item)
        why = scope.refuses(fields_of(flat), flat, company_of(item) if company_of else None,
                            check_company=company_of is not None)
        (outside if why else kept).append(item)
    if outside:
        ctx.counts["skipped_out_of_scope"] += len(outside)
        ctx.store.sync_states.save(ctx.tenant.name, _memory(ctx), [
            {"record_id": str(flat_of(item)["id"]), "checksum": scope.version} for item in outside])
    return kept


def widened(ctx: HandoffContext) -> list[str]:
    """Records skipped under an earlier scope, to be judged again now that the scope has changed;
    they are forgotten here (the ones still outside are remembered again under the new version)."""
    ids = ctx.store.sync_states.other_than(ctx.tenant.name, _memory(ctx), ctx.spec.scope.version)
    ctx.store.sync_states.forget(ctx.tenant.name, _memory(ctx), ids)
    return ids
