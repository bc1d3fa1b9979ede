"""Specs are declarations: loaded with errors that name file and field; conditions never run code."""

import pytest

from ledgerlink.conditions import ConditionError, parse_condition
from ledgerlink.spec import SpecError, load_spec


def test_condition_language_evaluates_comparisons_and_membership():
    condition = parse_condition('status == "won" and currency in ["ZAR", "USD"] and not amount == null')
    assert condition.evaluate({"status": "won", "currency": "ZAR", "amount": 5})
    assert not condition.evaluate({"status": "won", "currency": "EUR", "amount": 5})
    assert not condition.evaluate({"status": "won", "currency": "ZAR", "amount": None})


@pytest.mark.parametrize("text", ['__import__("os").system("x")', "status.upper() == 'WON'",
                                  "[x for x in y]", "lambda: 1", "status == (yield)"])
def test_condition_language_refuses_code(text):
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_unknown_field_in_condition_is_a_clear_error():
    with pytest.raises(ConditionError, match="unknown field 'stage_name'"):
        parse_condition('stage_name == "won"').evaluate({"status": "won"})


def test_shipped_spec_loads():
    spec = load_spec("won-deal-to-invoice")
    assert spec.invoice.for_system("xero").tax_types["standard"] == "OUTPUT3"
    assert spec.invoice.for_system("quickbooks").tax_types["standard"] == "Standard rated (15%)"
    with pytest.raises(SpecError, match="nothing for accounting system 'sage'"):
        spec.invoice.for_system("sage")
    assert spec.batch_size <= 50 and spec.expectations_path.is_file()


def test_spec_errors_name_file_and_field(tmp_path):
    good = load_spec("won-deal-to-invoice").path.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.replace("batch_size: 50", "batch_size: 500").replace('reference: "DEAL-{deal_id}"', 'reference: "DEAL"'))
    with pytest.raises(SpecError) as err:
        load_spec(bad)
    message = str(err.value)
    assert str(bad) in message and "batch_size" in message and "invoice.reference" in message
    bad.write_text(good.replace('trigger: status == "won"', 'trigger: os.system("rm")'))
    with pytest.raises(SpecError, match="trigger"):
        load_spec(bad)
    with pytest.raises(SpecError, match="known handoffs: contact-to-accounting-contact, payment-to-crm, reconciliation, won-deal-to-invoice"):
        load_spec("no-such-handoff")


def test_a_tenant_override_changes_only_what_it_names_and_is_validated():
    from ledgerlink.spec import SpecError, load_spec

    base = load_spec("won-deal-to-invoice")
    spec = load_spec("won-deal-to-invoice", {"invoice": {"accounting": {"xero": {"account_code": "4000"}}},
                                             "review": {"channel": "#acme"}})

    assert (spec.invoice.for_system("xero").account_code, spec.review.channel) == ("4000", "#acme")
    assert spec.invoice.for_system("xero").tax_types == base.invoice.for_system("xero").tax_types
    assert spec.invoice.accounting["quickbooks"] == base.invoice.accounting["quickbooks"]
    assert spec.review.rules == base.review.rules
    with pytest.raises(SpecError, match="batch_size"):
        load_spec("won-deal-to-invoice", {"batch_size": 500})
