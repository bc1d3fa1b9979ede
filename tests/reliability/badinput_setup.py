"""The tenant the bad-input properties run against: the real specs, every CRM × accounting pair.

Mappings, invoice rules and the trigger come from `flows/specs/*.yaml` exactly as a run loads them,
so a property breaks when the declared mapping and the code stop agreeing — not when a copy here
drifts. Tax rates are what each accounting sandbox offers (Xero by code, QuickBooks by numeric id
that the spec names by its name).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from ledgerlink.ledger import LedgerTaxRate, active_tax_codes
from ledgerlink.model import TaxTreatment
from ledgerlink.spec import load_spec

DEAL_SPEC = load_spec("won-deal-to-invoice")
CUSTOMER_SPEC = load_spec("contact-to-accounting-contact")
TZ = ZoneInfo("Africa/Johannesburg")
CURRENCIES = ("ZAR", "USD", "JPY")  # JPY: no minor unit, so cents are not always hundredths
CRMS = tuple(sorted(DEAL_SPEC.crm))
ACCOUNTING = tuple(sorted(DEAL_SPEC.invoice.accounting))
RATES = {
    "xero": [LedgerTaxRate("OUTPUT3", "Standard Rate Sales", Decimal("0.15")),
             LedgerTaxRate("ZERORATED", "Zero Rated", Decimal(0)),
             LedgerTaxRate("EXEMPTOUTPUT", "Exempt Sales", Decimal(0)),
             LedgerTaxRate("ZERORATEDOUTPUT", "Zero Rated Exports", Decimal(0)),
             LedgerTaxRate("OUTPUT", "Standard Rate (old 14%)", Decimal("0.14"), active=False)],
    "quickbooks": [LedgerTaxRate("3", "Standard rated (15%)", Decimal("0.15")),
                   LedgerTaxRate("5", "Zero-rated", Decimal(0)),
                   LedgerTaxRate("7", "Zero-rated exports", Decimal(0)),
                   LedgerTaxRate("9", "Exempt", Decimal(0))],
}
VAT_RATE = {TaxTreatment.STANDARD: Decimal("0.15"), TaxTreatment.ZERO_RATED: Decimal(0),
            TaxTreatment.ZERO_RATED_EXPORT: Decimal(0), TaxTreatment.EXEMPT: Decimal(0)}


@dataclass(frozen=True)
class Pair:
    """One CRM with one accounting system, as a tenant connects them."""

    crm: str
    accounting: str

    @property
    def mapping(self):
        return DEAL_SPEC.mapping_for(self.crm)

    @cached_property
    def rules(self):
        return DEAL_SPEC.invoice.for_system(self.accounting)

    @cached_property
    def active(self) -> dict[str, LedgerTaxRate]:
        return active_tax_codes(RATES[self.accounting])

    @property
    def customer_fields(self) -> dict[str, str]:
        return CUSTOMER_SPEC.fields_for(self.crm)

    def path(self, canonical: str, section: str = "deal") -> tuple[str, str]:
        """('deal', 'dealname') for canonical 'name': where a field lives in this CRM's bundle."""
        paths = {"deal": self.mapping.deal, "customer": self.mapping.customer, "line": self.mapping.line}[section]
        head, _, key = paths[canonical].partition(".")
        return head, key

    def tax_type(self, treatment: TaxTreatment) -> str:
        return self.active[self.rules.tax_types[treatment]].code


PAIRS = tuple(Pair(crm, accounting) for crm in CRMS for accounting in ACCOUNTING)
