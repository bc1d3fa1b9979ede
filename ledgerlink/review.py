"""Which records a person must judge: review facts per invoice, the rules they fire, and what the
approval message shows.

Pure functions over canonical objects, so the rules are tested without any vendor, and every number
stays a Decimal (amounts shown to finance are formatted Money, never floats).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink.model import Invoice, TaxTreatment
from ledgerlink.money import Money
from ledgerlink.review_spec import Review


def review_facts(invoice: Invoice, *, credit_limit: Decimal | None = None, open_balance: Decimal | None = None,
                 gate_warnings: int = 0) -> dict[str, Any]:
    """The names a review rule may use (ledgerlink.review_spec.REVIEW_FACTS), for one invoice.

    `open_balance` is None when it was not read (the customer has no credit limit)."""
    by_treatment = {treatment: sum(1 for line in invoice.lines if line.tax_treatment == treatment)
                    for treatment in TaxTreatment}
    total = invoice.total.rounded().amount
    return {
        "total": total,
        "subtotal": invoice.subtotal.rounded().amount,
        "currency": invoice.currency,
        "line_count": len(invoice.lines),
        "max_discount_percent": max((line.discount_percent for line in invoice.lines), default=Decimal(0)),
        "standard_lines": by_treatment[TaxTreatment.STANDARD],
        "zero_rated_lines": by_treatment[TaxTreatment.ZERO_RATED],
        "zero_rated_export_lines": by_treatment[TaxTreatment.ZERO_RATED_EXPORT],
        "exempt_lines": by_treatment[TaxTreatment.EXEMPT],
        "credit_limit": credit_limit,
        "open_balance": open_balance,
        "exposure": None if open_balance is None else open_balance + total,
        "gate_warnings": gate_warnings,
    }


def fired_rules(review: Review, facts: dict[str, Any]) -> list[str]:
    """Names of the rules whose condition holds, in the spec's order."""
    return [name for name, rule in review.rules.items() if rule.condition.evaluate(facts)]


def approval_context(invoice: Invoice, review: Review, fired: list[str], facts: dict[str, Any],
                     warnings: list[str], crm_url: str | None) -> dict[str, Any]:
    """What the approval message shows, JSON-safe and display-ready (stored on the request)."""
    currency = invoice.currency
    amounts = [("Total (incl. VAT)", str(invoice.total)), ("Excl. VAT", str(invoice.subtotal)),
               ("VAT", str(invoice.total_tax))]
    if facts.get("credit_limit") is not None:
        amounts += [("Credit limit", str(Money.of(facts["credit_limit"], currency))),
                    ("Open balance", str(Money.of(facts["open_balance"] or 0, currency)))]
    lines = [f"{line.quantity.normalize():f} × {line.description} @ {line.unit_price}"
             + (f" less {line.discount_percent.normalize():f} %" if line.discount_percent else "")
             + f" ({line.tax_treatment.value.replace('_', ' ')}) = {line.net_amount.rounded()}"
             for line in invoice.lines]
    return {
        "customer": invoice.customer.name,
        "customer_crm_id": invoice.customer.crm_id,
        "rule_name": ", ".join(fired),
        "rule_reason": "; ".join(review.rules[name].reason for name in fired),
        "amounts": amounts,
        "lines": lines,
        "warnings": warnings,
        "crm_url": crm_url,
        "total": str(invoice.total.rounded().amount),
        "currency": currency,
    }
