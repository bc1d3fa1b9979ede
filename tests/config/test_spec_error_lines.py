"""A spec error points at the line to fix: `<file>:<line>: <field>: <problem>`, in the spec file for
its own values and in the tenants file for a tenant's override."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ledgerlink.spec import SpecError, load_spec
from ledgerlink.tenants import load_tenants

SHIPPED = load_spec("won-deal-to-invoice").path.read_text(encoding="utf-8")


def _line(text: str, starts: str, after: int = 0) -> int:
    """1-based number of the first line (after line `after`) whose stripped text starts with `starts`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > after and line.strip().startswith(starts):
            return number
    raise AssertionError(f"no line starts with {starts!r}")


def _refused(path_or_name, overrides=None) -> str:
    with pytest.raises(SpecError) as refused:
        load_spec(path_or_name, overrides)
    return str(refused.value)


def test_a_bad_value_names_the_file_the_line_of_its_key_and_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SHIPPED.replace('reference: "DEAL-{deal_id}"', 'reference: "DEAL"')
    bad.write_text(text)
    message = _refused(bad)
    assert message.startswith(f"{bad}:{_line(text, 'reference:')}: invoice.reference: ")
    assert "reference template must contain {deal_id}" in message


def test_an_unknown_key_names_its_own_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SHIPPED.replace("    default_status: open\n", "    default_status: open\n    colour: red\n", 1)
    bad.write_text(text)
    assert _refused(bad) == f"{bad}:{_line(text, 'colour:')}: crm.hubspot.colour: Extra inputs are not permitted"


def test_a_missing_key_names_the_line_of_the_mapping_it_belongs_in(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SHIPPED.replace("  default_payment_terms_days: 30\n", "")
    bad.write_text(text)
    assert _refused(bad) == (f"{bad}:{_line(text, 'invoice:')}: invoice.default_payment_terms_days: "
                             "Field required")
    top = tmp_path / "no_description.yaml"
    text = SHIPPED.replace("description: Turn won CRM deals", "# description: Turn won CRM deals")
    top.write_text(text)  # a missing top-level key: the line the document's mapping starts on
    assert _refused(top) == f"{top}:{_line(text, 'name:')}: description: Field required"


def test_every_problem_of_a_spec_is_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SHIPPED.replace("batch_size: 50", "batch_size: 500").replace("      unit_price: line.price\n", "")
    bad.write_text(text)
    first, second = _refused(bad).split("; ")
    assert first == f"{bad}:{_line(text, 'line:')}: crm.hubspot.line: Value error, line mapping lacks unit_price"
    assert second == f"{bad}:{_line(text, 'batch_size:')}: batch_size: Input should be less than or equal to 50"


def _tenants_file(tmp_path: Path, overrides: dict) -> tuple[Path, str]:
    body = {"tenants": {"acme": {
        "crm": {"system": "hubspot", "token": "env:ACME_HUBSPOT_TOKEN"},
        "accounting": {"system": "xero", "tenant_id": "t-1", "client_id": "env:A", "client_secret": "env:B",
                       "refresh_token": "env:C"},
        "overrides": {"won-deal-to-invoice": overrides}}}}
    path = tmp_path / "tenants.yaml"
    text = "# the businesses this integrator runs\n" + yaml.safe_dump(body, sort_keys=False)
    path.write_text(text)
    return path, text


@pytest.mark.parametrize("overrides, key, field, problem", [
    ({"batch_size": 500}, "batch_size:", "batch_size", "Input should be less than or equal to 50"),
    ({"invoice": {"colour": "red"}}, "colour:", "invoice.colour", "Extra inputs are not permitted"),
    ({"review": {"rules": {"rush": {"when": "true"}}}}, "rush:", "review.rules.rush.reason", "Field required"),
], ids=["bad value", "unknown key", "missing key"])
def test_a_bad_tenant_override_names_the_line_in_the_tenants_file(tmp_path, overrides, key, field, problem):
    path, text = _tenants_file(tmp_path, overrides)
    tenant = load_tenants(path)["acme"]
    message = _refused("won-deal-to-invoice", tenant.spec_overrides("won-deal-to-invoice"))
    first = message.split("; ")[0]
    line = _line(text, key, after=_line(text, "won-deal-to-invoice:"))
    assert first == f"{path}:{line}: {field}: {problem} (tenant acme's override of won_deal_to_invoice.yaml)"


def test_an_override_of_a_good_spec_does_not_move_the_base_spec_errors_into_the_tenants_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SHIPPED.replace("batch_size: 50", "batch_size: 500")
    bad.write_text(text)
    path, _ = _tenants_file(tmp_path, {"review": {"channel": "#acme"}})
    overrides = load_tenants(path)["acme"].spec_overrides("won-deal-to-invoice")
    message = _refused(bad, overrides)
    assert re.fullmatch(rf"{re.escape(str(bad))}:{_line(text, 'batch_size:')}: batch_size: .*50", message)
