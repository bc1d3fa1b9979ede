"""Customer matching: declared order, exact keys, and never a guess on ambiguity or weak matches."""

import pytest

from ledgerlink.matching import ContactCandidate, ContactDirectory, normalise_name


@pytest.mark.parametrize("raw, expected", [
    ("Karoo Outdoor Supplies (Pty) Ltd", "karoo outdoor supplies"),
    ("KAROO OUTDOOR SUPPLIES PTY LTD.", "karoo outdoor supplies"),
    ("Umhlanga Dental Studio Proprietary Limited", "umhlanga dental studio"),
    ("Smith & Sons CC", "smith and sons"),
    ("Café Décor (RF) (Pty) Ltd", "cafe decor"),
    ("", ""),
])
def test_normalise_name_strips_case_punctuation_accents_and_legal_suffixes(raw, expected):
    assert normalise_name(raw) == expected


DIRECTORY = ContactDirectory([
    ContactCandidate("c-linked", "Karoo Outdoor Supplies (Pty) Ltd", "4123456789", "a@karoo.example", crm_id="101"),
    ContactCandidate("c-vat", "Umhlanga Dental", "4 999 888 777", "accounts@umhlanga.example"),
    ContactCandidate("c-mail", "Cederberg Tours", None, "Billing@Cederberg.example"),
    ContactCandidate("c-twin1", "Twin Traders", "4555555555"),
    ContactCandidate("c-twin2", "Twin Traders (Pty) Ltd", "4555555555"),
    ContactCandidate("c-name", "Fynbos Florists", None, None),
    ContactCandidate("c-weak", "Acacia Builders Pty Ltd", "4111111111", None),
    ContactCandidate("c-similar", "Baobab Logistics Gauteng", None, None),
])


def test_each_rule_finds_its_match_in_declared_order():
    assert DIRECTORY.match(crm_id="101", vat_number=None, email=None, name="x").accounting_id == "c-linked"
    vat = DIRECTORY.match(crm_id="9", vat_number="4999888777", email="other@x", name="Other")
    assert (vat.outcome, vat.rule, vat.accounting_id) == ("matched", "vat_number", "c-vat")
    mail = DIRECTORY.match(crm_id=None, vat_number=None, email="billing@cederberg.example ", name="Cederberg")
    assert (mail.rule, mail.accounting_id) == ("email", "c-mail")
    name = DIRECTORY.match(crm_id=None, vat_number=None, email=None, name="Fynbos Florists (Pty) Ltd")
    assert (name.rule, name.accounting_id) == ("name", "c-name")
    assert DIRECTORY.match(crm_id=None, vat_number="4000000000", email=None, name="Nobody").outcome == "none"


def test_several_candidates_or_a_weak_name_match_are_left_to_a_person():
    twins = DIRECTORY.match(crm_id=None, vat_number="4555555555", email=None, name="Twin Traders")
    assert twins.outcome == "ambiguous" and {c.accounting_id for c in twins.candidates} == {"c-twin1", "c-twin2"}
    assert "2 accounting contacts match by vat number" in twins.reason
    conflicting = DIRECTORY.match(crm_id=None, vat_number="4222222222", email=None, name="Acacia Builders (Pty) Ltd")
    assert conflicting.outcome == "ambiguous" and "VAT numbers differ" in conflicting.rule
    similar = DIRECTORY.match(crm_id=None, vat_number=None, email=None, name="Baobab Logistics")
    assert similar.outcome == "ambiguous" and similar.candidates[0].accounting_id == "c-similar"
