"""The won-deal-to-invoice suite: each bad deal is stopped for the right reason, good ones move."""

from __future__ import annotations

import datetime as dt

import pytest

from expectations.gate import GateFailure, GateResult

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"

# (reason_code, changes to a good row, expectation, column, value, message, owner)
ONE_FAILURE_CASES = [
    ("missing_company", {"company_id": None}, NOT_NULL, "company_id", None,
     "deal has no associated company", "sales-ops"),
    ("missing_customer_name", {"customer_name": None}, NOT_NULL, "customer_name", None,
     "the deal's company has no name to invoice", "sales-ops"),
    ("missing_currency", {"currency": None}, NOT_NULL, "currency", None,
     "deal has no currency", "sales-ops"),
    ("missing_amount", {"amount_cents": None}, NOT_NULL, "amount_cents", None,
     "deal has no amount", "sales-ops"),
    ("missing_issue_date", {"issue_date": None}, NOT_NULL, "issue_date", None,
     "invoice has no issue date (deal close date missing)", "finance"),
    ("missing_due_date", {"due_date": None}, NOT_NULL, "due_date", None,
     "invoice has no due date (no payment terms for this customer)", "finance"),
    ("amount_not_positive", {"amount_cents": -150000, "lines_total_cents": -150000}, BETWEEN,
     "amount_cents", -150000, "deal amount must be greater than zero (got -1500.00)", "sales-ops"),
    ("currency_not_allowed", {"currency": "EUR"}, "expect_column_values_to_be_in_set", "currency",
     "EUR", "currency EUR is not enabled in this accounting organisation", "finance"),
    ("unknown_tax_code", {"unknown_tax_code": "VAT15"}, "expect_column_values_to_be_null",
     "unknown_tax_code", "VAT15",
     "line tax code VAT15 does not map to an active tax type of this organisation", "finance"),
    ("invalid_vat_number", {"vat_number": "412345678"}, "expect_column_values_to_match_regex",
     "vat_number", "412345678",
     "VAT number 412345678 is not a South African VAT number (10 digits starting with 4)",
     "sales-ops"),
    ("due_before_issue", {"due_date": dt.date(2024, 2, 1)},
     "expect_column_pair_values_a_to_be_greater_than_b", "due_date,issue_date",
     {"due_date": dt.date(2024, 2, 1), "issue_date": dt.date(2024, 3, 1)},
     "due date 2024-02-01 is before issue date 2024-03-01", "finance"),
    ("lines_do_not_sum", {"lines_total_cents": 140000}, "expect_column_pair_values_to_be_equal",
     "amount_cents,lines_total_cents", {"amount_cents": 150000, "lines_total_cents": 140000},
     "deal amount 1500.00 does not equal the sum of its line items 1400.00", "sales-ops"),
    ("non_positive_quantity", {"min_line_quantity": "0"}, BETWEEN, "min_line_quantity", "0",
     "a line item has quantity 0; quantities must be greater than zero", "sales-ops"),
    ("negative_unit_price", {"min_line_unit_cents": -5050}, BETWEEN, "min_line_unit_cents", -5050,
     "a line item has unit price -50.50; unit prices cannot be negative", "sales-ops"),
]


def validate_between_good_rows(gate, rows, bad_row: dict) -> GateResult:
    """The bad row sits between two good ones, which must still pass."""
    batch = [rows.good("deal-before"), bad_row, rows.good("deal-after")]
    return gate.validate(batch, parameters=rows.tenant)


@pytest.mark.parametrize(
    "reason_code, changes, expectation, column, value, message, owner",
    ONE_FAILURE_CASES,
    ids=[case[0] for case in ONE_FAILURE_CASES],
)
def test_bad_deal_is_stopped_with_its_reason_while_neighbours_pass(
    won_deal_gate, rows, reason_code, changes, expectation, column, value, message, owner
):
    result = validate_between_good_rows(won_deal_gate, rows, rows.good("deal-bad", **changes))

    assert result.passed == ["deal-before", "deal-after"]
    assert result.failed == {
        "deal-bad": [GateFailure(reason_code, expectation, column, value, message, owner)]
    }


def test_deal_without_line_items_fails_only_no_line_items(won_deal_gate, rows):
    result = validate_between_good_rows(won_deal_gate, rows, rows.no_lines("deal-bad"))

    assert result.passed == ["deal-before", "deal-after"]
    assert result.failed == {"deal-bad": [GateFailure(
        "no_line_items", BETWEEN, "line_count", 0, "deal has no line items", "sales-ops")]}


def test_deal_without_line_items_and_zero_lines_total_fails_only_no_line_items(won_deal_gate, rows):
    bad_row = rows.no_lines("deal-bad", lines_total_cents=0)

    result = validate_between_good_rows(won_deal_gate, rows, bad_row)

    assert [f.reason_code for f in result.failed["deal-bad"]] == ["no_line_items"]


def test_customer_without_vat_number_passes_the_vat_check(won_deal_gate, rows):
    result = validate_between_good_rows(won_deal_gate, rows, rows.good("deal-no-vat", vat_number=None))

    assert result.passed == ["deal-before", "deal-no-vat", "deal-after"]
    assert result.failed == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"due_date": dt.date(2024, 3, 1)},  # due on the issue date: cash on delivery
        {"min_line_unit_cents": 0},  # a free line item
        {"min_line_quantity": "0.25"},  # a quarter of an hour is still a quantity
        {"vat_number": "4999999999"},
    ],
    ids=["due_on_issue_date", "free_line", "fractional_quantity", "other_vat_number"],
)
def test_edge_values_that_are_fine_pass(won_deal_gate, rows, changes):
    result = validate_between_good_rows(won_deal_gate, rows, rows.good("deal-edge", **changes))

    assert result.failed == {}


def test_zero_amount_is_not_positive(won_deal_gate, rows):
    bad_row = rows.good("deal-zero", amount_cents=0, lines_total_cents=0)

    result = validate_between_good_rows(won_deal_gate, rows, bad_row)

    assert [f.message for f in result.failed["deal-zero"]] == [
        "deal amount must be greater than zero (got 0.00)"]


def test_blank_customer_name_counts_as_missing(won_deal_gate, rows):
    bad_row = rows.good("deal-bad", customer_name="  ")

    result = validate_between_good_rows(won_deal_gate, rows, bad_row)

    assert [f.reason_code for f in result.failed["deal-bad"]] == ["missing_customer_name"]


def test_batch_with_every_kind_of_bad_deal_reports_each_row_with_all_its_reasons(won_deal_gate, rows):
    bad_changes = {case[0]: case[1] for case in ONE_FAILURE_CASES}
    batch = [rows.good("deal-good-1")]
    batch += [rows.good(f"deal-{code}", **changes) for code, changes in bad_changes.items()]
    batch.append(rows.no_lines("deal-no_line_items"))
    batch.append(rows.good("deal-good-2"))
    batch.append(rows.good("deal-everything-wrong", company_id=None, currency="EUR",
                           vat_number="VAT123", unknown_tax_code="ZZ", min_line_quantity="-1"))
    batch.append(rows.good("deal-good-3", vat_number=None))

    result = won_deal_gate.validate(batch, parameters=rows.tenant)

    assert result.passed == ["deal-good-1", "deal-good-2", "deal-good-3"]
    reasons = {key: [f.reason_code for f in failures] for key, failures in result.failed.items()}
    expected = {f"deal-{code}": [code] for code in [*bad_changes, "no_line_items"]}
    expected["deal-everything-wrong"] = [
        "missing_company", "currency_not_allowed", "unknown_tax_code", "invalid_vat_number",
        "non_positive_quantity"]
    assert reasons == expected
    assert list(result.failed) == [row["deal_id"] for row in batch if row["deal_id"] in expected]
    assert result.expectations_run == 16
    assert result.seconds > 0


def test_a_warning_lets_the_row_pass_and_says_why(won_deal_gate, rows):
    batch = [rows.good("deal-no-vat", vat_number=None), rows.good("deal-with-vat")]

    result = won_deal_gate.validate(batch, parameters=rows.tenant)

    assert result.passed == ["deal-no-vat", "deal-with-vat"]
    assert [w.reason_code for w in result.warnings["deal-no-vat"]] == ["no_customer_vat_number"]
    assert "deal-with-vat" not in result.warnings


def test_tenant_currencies_come_from_the_parameters(won_deal_gate, rows):
    batch = [rows.good("deal-usd", currency="USD")]

    assert won_deal_gate.validate(batch, {"tenant_currencies": ["ZAR", "USD"]}).passed == ["deal-usd"]
    assert list(won_deal_gate.validate(batch, {"tenant_currencies": {"ZAR"}}).failed) == ["deal-usd"]


def test_empty_batch_gives_empty_result_without_running_gx(won_deal_gate):
    # No parameters: had the gate gone to GX it would have raised ParameterError.
    result = won_deal_gate.validate([])

    assert (result.passed, result.failed, result.expectations_run) == ([], {}, 0)
