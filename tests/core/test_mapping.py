"""Spec mapping from a HubSpot-shaped bundle to gate row and canonical invoice."""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledgerlink.ledger import LedgerTaxRate, active_tax_codes
from ledgerlink.mapping import MappingError, build_invoice, draft_from_bundle, gate_row, party_from_fields
from ledgerlink.model import DealStatus, TaxTreatment
from ledgerlink.spec import load_spec

SPEC = load_spec("won-deal-to-invoice")
MAPPING, RULES = SPEC.mapping_for("hubspot"), SPEC.invoice.for_system("xero")
ACTIVE = active_tax_codes([LedgerTaxRate("OUTPUT3", "Standard Rate Sales", Decimal("0.15")),
                           LedgerTaxRate("ZERORATED", "Zero Rated", Decimal(0)),
                           LedgerTaxRate("EXEMPTOUTPUT", "Exempt Sales", Decimal(0)),
                           LedgerTaxRate("ZERORATEDOUTPUT", "Zero Rated Exports", Decimal(0)),
                           LedgerTaxRate("OUTPUT", "Standard Rate (old 14%)", Decimal("0.14"), active=False)])
TZ = ZoneInfo("Africa/Johannesburg")


def bundle(**deal_overrides):
    deal = {"id": "101", "dealname": "Karoo tents", "dealstage": "closedwon", "amount": "1170.00",
            "deal_currency_code": "ZAR", "closedate": "2026-10-31T22:30:00.000Z",
            "hs_lastmodifieddate": "2026-11-01T08:00:00.000Z", **deal_overrides}
    return {
        "deal": deal,
        "company": {"id": "9", "name": "Karoo Outdoor Supplies (Pty) Ltd", "vat_number": "4123456789",
                    "billing_email": "accounts@karoo.example.co.za", "payment_terms": "30"},
        "lines": [
            {"id": "1", "name": "Tent", "quantity": "2", "price": "500.00", "hs_discount_percentage": "10",
             "hs_tax_rate_group_id": "1"},
            {"id": "2", "name": "Export crate", "quantity": "1", "price": "270", "hs_tax_rate_group_id": "4"},
        ],
    }


def test_bundle_maps_to_a_passing_gate_row_and_a_vat_correct_invoice():
    draft = draft_from_bundle(bundle(), MAPPING, TZ)
    assert draft.status is DealStatus.WON and draft.amount == Decimal("1170.00")
    assert draft.close_date == date(2026, 11, 1)  # 22:30 UTC is already 1 November in Johannesburg
    row = gate_row(draft, MAPPING, RULES, ACTIVE)
    assert row["amount_cents"] == row["lines_total_cents"] == 117000
    assert row["unknown_tax_code"] is None and row["due_date"] == date(2026, 12, 1)
    invoice = build_invoice(draft, row, MAPPING, RULES, ACTIVE, party_from_fields(draft.customer))
    assert invoice.reference == "DEAL-101"
    assert [(l.tax_type, l.tax_treatment) for l in invoice.lines] == [
        ("OUTPUT3", TaxTreatment.STANDARD), ("ZERORATEDOUTPUT", TaxTreatment.ZERO_RATED_EXPORT)]
    assert str(invoice.total) == "ZAR 1,305.00"  # 900 + 135 VAT + 270 zero-rated export


def test_unknown_or_inactive_tax_code_is_named_in_the_gate_row():
    data = bundle()
    data["lines"][1]["hs_tax_rate_group_id"] = "77"
    assert gate_row(draft_from_bundle(data, MAPPING, TZ), MAPPING, RULES, ACTIVE)["unknown_tax_code"] == "77"
    without_output3 = {k: v for k, v in ACTIVE.items() if k != "OUTPUT3"}
    assert gate_row(draft_from_bundle(bundle(), MAPPING, TZ), MAPPING, RULES, without_output3)["unknown_tax_code"] == "1"


def test_unparseable_values_raise_mapping_error_naming_the_field():
    with pytest.raises(MappingError, match="amount: .*not a number"):
        draft_from_bundle(bundle(amount="12 thousand"), MAPPING, TZ)
    data = bundle()
    data["lines"][0]["quantity"] = "two"
    with pytest.raises(MappingError, match="line 1 quantity"):
        draft_from_bundle(data, MAPPING, TZ)


def test_checksum_ignores_modified_time_but_not_content():
    a = draft_from_bundle(bundle(), MAPPING, TZ)
    b = draft_from_bundle(bundle(hs_lastmodifieddate="2026-11-02T00:00:00Z"), MAPPING, TZ)
    c = draft_from_bundle(bundle(amount="1170.01"), MAPPING, TZ)
    assert a.checksum() == b.checksum() != c.checksum()
