"""`config check` refuses what cannot work before any dry run: a bad override, a spec without a
mapping for the tenant's CRM, a suite GX would not build — each named, none recorded as checked."""

from __future__ import annotations

import yaml

from ledgerlink.config_check import check_config, handoffs_of
from ledgerlink.settings import project_root
from ledgerlink.store import open_store
from ledgerlink.tenants import load_tenants

SPECS = project_root() / "flows" / "specs"


def _tenants(tmp_path, **acme) -> dict:
    body = {"crm": {"system": "hubspot", "token": "env:ACME_HUBSPOT_TOKEN"},
            "accounting": {"system": "xero", "tenant_id": "t-1", "client_id": "env:A", "client_secret": "env:B",
                           "refresh_token": "env:C"}, **acme}
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": {"acme": body}}, sort_keys=False))
    return load_tenants(path)


def test_a_bad_override_fails_the_check_at_its_line_and_nothing_is_dry_run_or_recorded(tmp_path):
    tenants = _tenants(tmp_path, overrides={"won-deal-to-invoice": {"batch_size": 500}})
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    [check] = check_config(tenants, store, tenant="acme", handoff="won-deal-to-invoice")
    assert not check.passed and check.planned == {}
    line = next(n for n, text in enumerate((tmp_path / "tenants.yaml").read_text().splitlines(), 1)
                if "batch_size" in text)
    assert check.problem.startswith(f"{tmp_path / 'tenants.yaml'}:{line}: batch_size: ")
    assert store.config_history.handoff_versions("acme") == []


def test_a_spec_without_a_mapping_for_the_tenant_s_crm_fails_the_check(tmp_path):
    spec = tmp_path / "won_deal_to_invoice.yaml"
    data = yaml.safe_load((SPECS / "won_deal_to_invoice.yaml").read_text())
    del data["crm"]["hubspot"]
    spec.write_text(yaml.safe_dump(data))
    [check] = check_config(_tenants(tmp_path), open_store(f"sqlite:///{tmp_path / 'store.db'}"), tenant="acme",
                           handoff=str(spec))
    assert check.problem == "handoff 'won-deal-to-invoice' has no mapping for CRM 'hubspot' (it maps: pipedrive)"


def test_a_suite_gx_would_not_build_fails_the_check_naming_the_expectation(tmp_path):
    suite = tmp_path / "broken_suite.yaml"
    suite.write_text((project_root() / "expectations" / "contact_to_accounting_contact.yaml").read_text()
                     .replace("expect_column_values_to_match_regex", "expect_column_values_to_match_regexx", 1))
    spec = tmp_path / "payment_to_crm.yaml"
    spec.write_text((SPECS / "payment_to_crm.yaml").read_text() + f"\nexpectations: {suite}\n")
    [check] = check_config(_tenants(tmp_path), open_store(f"sqlite:///{tmp_path / 'store.db'}"), tenant="acme",
                           handoff=str(spec))
    assert check.problem.startswith(f"{suite}: ") and "expect_column_values_to_match_regexx" in check.problem


def test_the_check_covers_a_tenant_s_handoffs_in_the_order_they_feed_each_other(tmp_path):
    acme = _tenants(tmp_path, handoffs=["payment-to-crm", "won-deal-to-invoice"])["acme"]
    assert handoffs_of(acme) == ["won-deal-to-invoice", "payment-to-crm", "reconciliation"]
