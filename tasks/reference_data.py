"""Reference data read once per run: the tenant's active tax rates (never hard-coded: a tenant may
have renamed or archived a rate, and OUTPUT — the old 14% — must never be used for 15% VAT)."""

from __future__ import annotations

from decimal import Decimal

from prefect import task
from prefect.cache_policies import NO_CACHE

from ledgerlink.mapping import TaxRate
from tasks.context import HandoffContext
from tasks.policy import TASK_RETRIES, TASK_RETRY_DELAY_S


@task(name="load-tax-rates", retries=TASK_RETRIES, retry_delay_seconds=TASK_RETRY_DELAY_S, cache_policy=NO_CACHE)
def load_tax_rates(ctx: HandoffContext) -> dict[str, TaxRate]:
    active = {}
    for rate in ctx.accounting.tax_rates():
        if rate.get("Status") == "ACTIVE" and rate.get("TaxType"):
            effective = Decimal(str(rate.get("EffectiveRate", rate.get("DisplayTaxRate", 0))))
            active[rate["TaxType"]] = TaxRate(rate["TaxType"], effective / Decimal(100))
    ctx.active_tax = active
    return active
