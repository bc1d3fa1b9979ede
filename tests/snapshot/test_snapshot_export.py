"""`ledgerlink snapshot` against real sandboxes (HubSpot + Xero, Pipedrive + QuickBooks): every
record once, counts equal to the sandboxes' own, files that prove themselves (valid JSONL, hashes
in the manifest), owner-only permissions, and nothing written anywhere but the rotated token."""

from __future__ import annotations

import hashlib
import json
import stat
from decimal import Decimal

import pytest

OWNER_ONLY_DIR, OWNER_ONLY_FILE = 0o700, 0o600


def _store_rows(store) -> dict[str, list]:
    """Every row of every store table, but the OAuth tokens (the one thing a snapshot may write)."""
    from sqlalchemy import inspect, text

    with store.engine.connect() as connection:
        return {table: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table}"'))), key=repr)
                for table in inspect(store.engine).get_table_names() if table != "oauth_token"}


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_snapshot_holds_every_record_once_and_proves_its_files(books):
    from ledgerlink.store import open_store
    from tasks.snapshot import take_snapshot

    store = open_store()
    rows_before = _store_rows(store)
    token_before = store.tokens.load("books", books.tenant.accounting.system)
    seen = []
    result = take_snapshot(books.tenant, progress=lambda object_type, count: seen.append(object_type))

    expected = {**books.pair.crm.record_counts(), **books.pair.accounting.record_counts()}
    assert result.counts == expected
    assert expected["invoices"] == 3 and expected["payments"] == 1 and expected["line_items"] > expected["deals"]
    assert {"companies", "deals", "line_items", "contacts", "invoices", "payments"} <= set(seen)

    folder = result.folder
    assert folder.parent == books.home / "snapshots" and folder.name.startswith("books-2")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tenant"] == "books" and manifest["ledgerlink_version"] == "0.1.0"
    assert manifest["systems"] == dict(zip(("crm", "accounting"), books.pair.systems))
    assert manifest["started_at"] <= manifest["finished_at"]
    assert sorted(manifest["files"]) == sorted(f"{name}.jsonl" for name in expected)
    for name, entry in manifest["files"].items():
        path = folder / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        records = _lines(path)  # every line is one JSON record
        assert len(records) == entry["count"] == expected[entry["object"]]
        assert len({r["id"] for r in records}) == len(records)  # each record once
        assert stat.S_IMODE(path.stat().st_mode) == OWNER_ONLY_FILE
    assert stat.S_IMODE((folder / "manifest.json").stat().st_mode) == OWNER_ONLY_FILE
    assert stat.S_IMODE(folder.stat().st_mode) == OWNER_ONLY_DIR
    assert stat.S_IMODE(folder.parent.stat().st_mode) == OWNER_ONLY_DIR
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no .partial left behind

    # nothing written to either system, nothing to the store but the rotated refresh token
    assert books.pair.crm.stats.snapshot()["writes"] == 0
    assert books.pair.accounting.stats.snapshot()["writes"] == 0
    assert _store_rows(store) == rows_before
    token_after = store.tokens.load("books", books.tenant.accounting.system)
    assert token_after.refresh_token != token_before.refresh_token
    assert token_after.refresh_token == books.pair.accounting.state.auth.current_refresh_token


def test_records_carry_what_the_specs_read_and_write_with_exact_money(books):
    from ledgerlink.spec import load_spec
    from tasks.snapshot import take_snapshot

    folder = take_snapshot(books.tenant).folder
    system = books.tenant.crm.system
    mapping = load_spec("won-deal-to-invoice").mapping_for(system)
    payments = load_spec("payment-to-crm").properties
    modified = {"hubspot": "hs_lastmodifieddate", "pipedrive": "update_time"}[system]

    deal = _lines(folder / "deals.jsonl")[0]
    expected = {p.split(".", 1)[1] for p in mapping.deal.values()} | set(mapping.writeback) | set(payments) | {
        "ledgerlink_review_status", "ledgerlink_review_note", modified}
    assert set(deal["properties"]) == expected  # no more (Pipedrive returns every field): POPIA
    company = _lines(folder / "companies.jsonl")[0]["properties"]
    customer = load_spec("contact-to-accounting-contact").fields_for(system)
    assert {p.split(".", 1)[1] for p in customer.values()} - {"id"} <= set(company)
    assert "ledgerlink_accounting_id" in company
    lines = _lines(folder / "line_items.jsonl")
    deal_ids = {d["id"] for d in _lines(folder / "deals.jsonl")}
    assert all(line["deal_id"] in deal_ids for line in lines)
    assert {p.split(".", 1)[1] for p in mapping.line.values()} <= set(lines[0]["properties"])

    invoices = {i["number"]: i for i in _lines(folder / "invoices.jsonl")}
    part_paid = invoices[books.invoice_numbers[0]]
    assert isinstance(part_paid["total"], str) and Decimal(part_paid["total"]) == Decimal("2875.00")
    assert Decimal(part_paid["amount_paid"]) == Decimal("1437.50") == Decimal(part_paid["amount_due"])
    assert part_paid["issue_date"] == "2026-11-02" and part_paid["lines"][0]["net"] == "2500.00"
    [payment] = _lines(folder / "payments.jsonl")
    assert payment["invoice_ids"] == [part_paid["id"]]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["contacts.jsonl"]["personal_fields"] == ["email", "name"]
    assert {"name", "billing_email"} <= set(manifest["files"]["companies.jsonl"]["personal_fields"])


def test_line_items_are_read_in_batches_never_one_call_per_record(books):
    from tasks.snapshot import take_snapshot

    result = take_snapshot(books.tenant)
    calls = books.pair.crm.stats.snapshot()["total"]
    assert result.counts["line_items"] >= 100 and calls <= 8  # 149 line items, 60 deals, 9 companies


def test_an_existing_folder_is_never_overwritten_and_a_failed_snapshot_leaves_nothing(books, tmp_path):
    from connectors.errors import VendorError
    from ledgerlink.snapshot_files import SnapshotError
    from tasks.snapshot import take_snapshot

    existing = tmp_path / "kept"
    existing.mkdir()
    with pytest.raises(SnapshotError, match="already exists"):
        take_snapshot(books.tenant, existing)
    # the accounting system refuses its reads: the CRM side is already written when that happens
    books.pair.accounting.state.faults.add_rule("status", "/", "GET", status=403, times=None)
    with pytest.raises(VendorError):
        take_snapshot(books.tenant, tmp_path / "broken")
    assert not (tmp_path / "broken").exists() and not list(tmp_path.glob(".broken*"))


def test_two_snapshots_in_one_second_get_two_folders(tmp_path):
    from datetime import datetime, timezone

    from ledgerlink.snapshot_files import default_folder

    moment = datetime(2026, 12, 1, 8, 0, 0, 250_000, tzinfo=timezone.utc)
    first = default_folder(tmp_path, "acme", moment)
    assert first.name == "acme-20261201T080000Z"
    first.mkdir()
    second = default_folder(tmp_path, "acme", moment)
    assert second.name == "acme-20261201T080000Z-2"
    (tmp_path / ".acme-20261201T080000Z-2.partial").mkdir()  # another snapshot being written
    assert default_folder(tmp_path, "acme", moment).name == "acme-20261201T080000Z-3"
