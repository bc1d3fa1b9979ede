"""A gate that cannot judge a batch says so loudly and precisely, instead of letting rows through."""

from __future__ import annotations

import textwrap

import pytest

from expectations.errors import BatchError, GateError, ParameterError, SuiteError
from expectations.gate import Gate

NOT_NULL_COMPANY = """
  - type: expect_column_values_to_not_be_null
    kwargs: {column: company_id}
    meta: {reason_code: missing_company, owner: sales-ops, message: deal has no associated company}
"""


def write_suite(tmp_path, expectations_yaml: str, name: str = "custom.yaml"):
    path = tmp_path / name
    path.write_text(f"name: custom\nexpectations:\n{textwrap.dedent(expectations_yaml)}")
    return path


def test_unknown_expectation_type_is_refused_naming_it_and_the_file(tmp_path):
    path = write_suite(tmp_path, NOT_NULL_COMPANY + """
  - type: expect_column_values_to_be_a_valid_vat_number
    kwargs: {column: vat_number}
    meta: {reason_code: invalid_vat_number, owner: sales-ops, message: "bad VAT number {value}"}
""")

    with pytest.raises(SuiteError) as raised:
        Gate(path, key_column="deal_id")

    assert "expect_column_values_to_be_a_valid_vat_number" in str(raised.value)
    assert str(path) in str(raised.value)
    assert "1 of 2 expectations" in str(raised.value)


def test_expectation_with_invalid_kwargs_is_refused_not_dropped(tmp_path):
    path = write_suite(tmp_path, """
  - type: expect_column_values_to_be_in_set
    kwargs: {column: currency, value_set: ZAR}
    meta: {reason_code: currency_not_allowed, owner: finance, message: "currency {value}"}
""")

    with pytest.raises(SuiteError, match="expect_column_values_to_be_in_set"):
        Gate(path, key_column="deal_id")


def test_missing_suite_file_is_refused(tmp_path):
    with pytest.raises(SuiteError, match="not found"):
        Gate(tmp_path / "nowhere.yaml", key_column="deal_id")


def test_invalid_yaml_is_refused(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nexpectations: [ {type: x\n")

    with pytest.raises(SuiteError, match="invalid YAML"):
        Gate(path, key_column="deal_id")


@pytest.mark.parametrize("missing", ["reason_code", "owner", "message"])
def test_expectation_without_gate_meta_is_refused(tmp_path, missing):
    meta = {"reason_code": "missing_company", "owner": "sales-ops", "message": "no company"}
    del meta[missing]
    path = write_suite(tmp_path, f"""
  - type: expect_column_values_to_not_be_null
    kwargs: {{column: company_id}}
    meta: {meta}
""")

    with pytest.raises(SuiteError, match=f"meta.{missing}"):
        Gate(path, key_column="deal_id")


def test_message_template_with_unknown_field_is_refused(tmp_path):
    path = write_suite(tmp_path, """
  - type: expect_column_values_to_not_be_null
    kwargs: {column: company_id}
    meta: {reason_code: missing_company, owner: sales-ops, message: "no company for {deal}"}
""")

    with pytest.raises(SuiteError, match="unknown field"):
        Gate(path, key_column="deal_id")


def test_aggregate_expectation_is_refused_because_it_names_no_rows(tmp_path):
    path = write_suite(tmp_path, """
  - type: expect_column_mean_to_be_between
    kwargs: {column: amount_cents, min_value: 0}
    meta: {reason_code: low_mean, owner: finance, message: mean too low}
""")

    with pytest.raises(SuiteError, match="not a row-level"):
        Gate(path, key_column="deal_id")


def test_suite_column_missing_from_the_batch_is_named(won_deal_gate, rows):
    row = rows.good("deal-1")
    del row["unknown_tax_code"]

    with pytest.raises(SuiteError, match="unknown_tax_code"):
        won_deal_gate.validate([row], parameters=rows.tenant)


def test_missing_parameter_is_named(won_deal_gate, rows):
    with pytest.raises(ParameterError, match="tenant_currencies"):
        won_deal_gate.validate([rows.good("deal-1")])


def test_duplicate_keys_are_refused(won_deal_gate, rows):
    with pytest.raises(BatchError, match="deal-1"):
        won_deal_gate.validate([rows.good("deal-1"), rows.good("deal-1")], parameters=rows.tenant)


def test_money_as_float_is_refused(won_deal_gate, rows):
    row = rows.good("deal-1", amount_cents=1500.0)

    with pytest.raises(BatchError, match="amount_cents"):
        won_deal_gate.validate([row], parameters=rows.tenant)


def test_expectation_that_crashes_inside_gx_raises_instead_of_passing_every_row(tmp_path):
    # Comparing nullable integers where one side is NA makes GX's pandas metric raise; GX records
    # that as an unsuccessful expectation with no failing rows.
    path = tmp_path / "crashing.yaml"
    path.write_text(textwrap.dedent("""
        name: crashing
        meta: {column_types: {amount_cents: integer, lines_total_cents: integer}}
        expectations:
          - type: expect_column_pair_values_to_be_equal
            kwargs: {column_A: amount_cents, column_B: lines_total_cents, ignore_row_if: neither}
            meta: {reason_code: lines_do_not_sum, owner: sales-ops, message: "{value}"}
    """))
    gate = Gate(path, key_column="deal_id")
    batch = [{"deal_id": "deal-1", "amount_cents": 100, "lines_total_cents": None}]

    with pytest.raises(GateError, match="could not run"):
        gate.validate(batch)
