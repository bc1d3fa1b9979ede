"""Configuration versions are content hashes: the same files give the same version on every run,
any change of what a run would do gives a new one — and only the part that changed moves."""

from __future__ import annotations

import re

import pytest

from ledgerlink.config_versions import versions_for
from ledgerlink.settings import project_root
from ledgerlink.tenants import Tenant

SPECS = project_root() / "flows" / "specs"
SUITES = project_root() / "expectations"


def tenant(crm: str = "hubspot", **settings) -> Tenant:
    connection = {"system": crm, "token": "env:ACME_CRM_TOKEN"}
    return Tenant(name="acme", crm=connection, accounting={
        "system": "xero", "tenant_id": "t-1", "client_id": "env:A", "client_secret": "env:B", "refresh_token": "env:C"},
        **settings)


def parts(versions) -> dict[tuple[str, str], str]:
    return {(p.kind, p.name): p.hash for p in versions.parts}


def changed(before, after) -> set[tuple[str, str]]:
    old, new = parts(before), parts(after)
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def test_the_same_files_give_the_same_version_every_time():
    first, again = versions_for(tenant(), "won-deal-to-invoice"), versions_for(tenant(), "won-deal-to-invoice")
    assert first == again and re.fullmatch(r"[0-9a-f]{12}", first.id)
    assert set(parts(first)) == {
        ("spec", "won-deal-to-invoice"), ("spec", "contact-to-accounting-contact"),
        ("suite", "won_deal_to_invoice.yaml"), ("suite", "contact_to_accounting_contact.yaml"),
        ("mapping", "won-deal-to-invoice crm.hubspot"), ("mapping", "contact-to-accounting-contact crm.hubspot")}
    assert first.short()["spec"]["won-deal-to-invoice"] == first.as_dict()["spec"]["won-deal-to-invoice"][:12]


def test_each_handoff_has_its_own_version_of_what_it_reads():
    ids = {h: versions_for(tenant(), h).id for h in
           ("contact-to-accounting-contact", "won-deal-to-invoice", "payment-to-crm", "reconciliation")}
    assert len(set(ids.values())) == 4
    assert set(parts(versions_for(tenant(), "payment-to-crm"))) == {("spec", "payment-to-crm")}


def _copy(tmp_path, name: str, edit=lambda text: text, suite: str | None = None):
    text = (SPECS / name).read_text(encoding="utf-8")
    if suite is not None:
        text += f"\nexpectations: {suite}\n"
    path = tmp_path / name
    path.write_text(edit(text), encoding="utf-8")
    return str(path)


def test_comments_blank_lines_layout_and_key_order_are_not_changes_values_are(tmp_path):
    base = versions_for(tenant(), _copy(tmp_path, "won_deal_to_invoice.yaml"))
    assert base.id == versions_for(tenant(), "won-deal-to-invoice").id  # where the file lives is not content
    cosmetic = versions_for(tenant(), _copy(tmp_path, "won_deal_to_invoice.yaml", lambda t: (
        "# a new comment\n\n" + t.replace("page_size: 200\nbatch_size: 50", "batch_size:   50   # moved up\npage_size: 200")
        .replace("trigger: status == \"won\"", "trigger: 'status == \"won\"'"))))
    assert cosmetic.id == base.id
    terms = versions_for(tenant(), _copy(tmp_path, "won_deal_to_invoice.yaml",
                                         lambda t: t.replace("default_payment_terms_days: 30", "default_payment_terms_days: 14")))
    assert changed(base, terms) == {("spec", "won-deal-to-invoice")} and terms.id != base.id
    typed = versions_for(tenant(), _copy(tmp_path, "won_deal_to_invoice.yaml",
                                         lambda t: t.replace('"1": standard', '1: standard')))  # int key, not text
    assert changed(base, typed) == {("mapping", "won-deal-to-invoice crm.hubspot")}


def test_a_suite_change_is_a_new_suite_version_and_a_comment_is_not(tmp_path):
    suite = tmp_path / "finance_ready.yaml"
    original = (SUITES / "contact_to_accounting_contact.yaml").read_text(encoding="utf-8")
    suite.write_text(original, encoding="utf-8")
    spec = _copy(tmp_path, "payment_to_crm.yaml", suite=str(suite))
    before = versions_for(tenant(), spec)
    assert ("suite", "finance_ready.yaml") in parts(before)
    suite.write_text("# reviewed by finance\n" + original, encoding="utf-8")
    assert versions_for(tenant(), spec).id == before.id
    suite.write_text(original.replace("max_value: 365", "max_value: 120"), encoding="utf-8")
    after = versions_for(tenant(), spec)
    assert changed(before, after) == {("suite", "finance_ready.yaml")} and after.id != before.id


def test_a_tenant_override_changes_the_spec_or_the_mapping_it_touches():
    base = versions_for(tenant(), "won-deal-to-invoice")
    review = versions_for(tenant(overrides={"won-deal-to-invoice": {"review": {"channel": "#acme"}}}),
                          "won-deal-to-invoice")
    assert changed(base, review) == {("spec", "won-deal-to-invoice")}
    mapping = versions_for(tenant(overrides={"won-deal-to-invoice": {"crm": {"hubspot": {"deal": {
        "owner_id": "deal.acme_owner"}}}}}), "won-deal-to-invoice")
    assert changed(base, mapping) == {("mapping", "won-deal-to-invoice crm.hubspot")}
    sources = {(p.kind, p.name): p.source for p in review.parts + mapping.parts}  # later wins: `mapping`'s
    assert sources[("mapping", "won-deal-to-invoice crm.hubspot")] == \
        "flows/specs/won_deal_to_invoice.yaml crm.hubspot with tenant acme's overrides"
    assert sources[("spec", "won-deal-to-invoice")] == "flows/specs/won_deal_to_invoice.yaml"  # crm only: not the spec
    assert {p.name: p.source for p in review.parts}["won-deal-to-invoice"] == \
        "flows/specs/won_deal_to_invoice.yaml with tenant acme's overrides"


def test_another_crm_s_mapping_is_not_part_of_this_tenant_s_version():
    other_crm = {"won-deal-to-invoice": {"crm": {"pipedrive": {"deal": {"owner_id": "deal.user_id"}}}}}
    assert versions_for(tenant(overrides=other_crm), "won-deal-to-invoice").id == \
        versions_for(tenant(), "won-deal-to-invoice").id
    pipedrive = versions_for(tenant("pipedrive", overrides=other_crm), "won-deal-to-invoice")
    assert ("mapping", "won-deal-to-invoice crm.pipedrive") in parts(pipedrive)
    assert changed(versions_for(tenant("pipedrive"), "won-deal-to-invoice"), pipedrive) == {
        ("mapping", "won-deal-to-invoice crm.pipedrive")}


@pytest.mark.parametrize("handoff, moves", [
    ("won-deal-to-invoice", True),  # makes customers through the contact handoff
    ("contact-to-accounting-contact", True),
    ("payment-to-crm", False),
])
def test_the_contact_mapping_belongs_to_the_handoffs_that_make_customers(handoff, moves):
    contact = {"contact-to-accounting-contact": {"crm": {"hubspot": {"phone": "company.mobile"}}}}
    before, after = versions_for(tenant(), handoff), versions_for(tenant(overrides=contact), handoff)
    assert (after.id != before.id) is moves
    if moves:
        assert changed(before, after) == {("mapping", "contact-to-accounting-contact crm.hubspot")}


def test_the_stored_content_is_what_was_hashed_and_reads_as_yaml():
    import yaml

    from ledgerlink.config_versions import content_hash

    for part in versions_for(tenant(), "won-deal-to-invoice").parts:  # (keys are all text in the shipped files)
        assert content_hash(yaml.safe_load(part.content)) == part.hash
    spec = next(p for p in versions_for(tenant(), "won-deal-to-invoice").parts if p.kind == "spec"
                and p.name == "won-deal-to-invoice")
    assert "crm:" not in spec.content and "reference: DEAL-{deal_id}" in spec.content
    assert spec.source == "flows/specs/won_deal_to_invoice.yaml"
