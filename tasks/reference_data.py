"""Reference data read once per run: the tenant's active tax rates (never hard-coded: a tenant may
have renamed or archived a rate, and OUTPUT — the old 14% — must never be used for 15% VAT)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.ledger import LedgerTaxRate, active_tax_codes
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S


@task(name="load-tax-rates", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def load_tax_rates(ctx: HandoffContext) -> dict[str, LedgerTaxRate]:
    ctx.active_tax = active_tax_codes(ctx.accounting.tax_rates())
    return ctx.active_tax
