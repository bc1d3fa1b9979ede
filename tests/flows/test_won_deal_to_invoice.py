"""won-deal-to-invoice end to end: real Prefect, real HTTP to the sandboxes, real SQLite store."""

from __future__ import annotations

from decimal import Decimal

TAX_TYPES = {"1": "OUTPUT3", "2": "ZERORATED", "3": "EXEMPTOUTPUT", "4": "ZERORATEDOUTPUT"}


def test_seeded_run_invoices_each_eligible_won_deal_once_with_correct_lines_vat_and_totals(spine):
    result = spine.run()
    assert result["status"] == "completed"
    eligible = spine.eligible_deals()
    by_reference = spine.invoices_by_reference()
    assert len(eligible) >= 20
    for deal_id, props in eligible.items():
        [invoice] = by_reference[f"DEAL-{deal_id}"]  # exactly one
        lines = spine.lines(deal_id)
        assert [(l["Description"], Decimal(str(l["Quantity"])), Decimal(str(l["UnitAmount"])), l["TaxType"])
                for l in invoice["LineItems"]] == [
            (line["name"], Decimal(line["quantity"]), Decimal(line["price"]), TAX_TYPES[line["hs_tax_rate_group_id"]])
            for line in lines]
        assert Decimal(str(invoice["Total"])) == spine.expected_total(deal_id)
        assert invoice["CurrencyCode"] == props["deal_currency_code"] and invoice["Status"] == "AUTHORISED"
        assert spine.deal(deal_id)["ledgerlink_invoice_number"] == invoice["InvoiceNumber"]
        assert spine.deal(deal_id)["ledgerlink_invoice_id"].lower() == invoice["InvoiceID"].lower()
    assert len(spine.invoices()) == len(eligible) == result["counts"]["invoices_created"]
    assert any(l["TaxType"] == "OUTPUT3" for i in spine.invoices() for l in i["LineItems"])


def test_second_run_creates_nothing_and_sends_no_write_calls(spine):
    spine.run()
    before = len(spine.invoices())
    spine.reset_stats()
    second = spine.run()
    assert second["status"] == "completed" and second["counts"].get("invoices_created", 0) == 0
    assert len(spine.invoices()) == before
    assert spine.stats("xero")["writes"] == 0 and spine.stats("hubspot")["writes"] == 0
    assert spine.stats("hubspot")["total"] + spine.stats("xero")["total"] <= 4


def test_bad_deals_wait_in_the_exception_queue_with_readable_reasons_while_good_ones_move(spine):
    result = spine.run()
    defects = spine.defective_deals()
    expected_reason = {"no_company": "missing_company", "negative_amount": "amount_not_positive",
                       "unknown_currency": "currency_not_allowed", "no_line_items": "no_line_items",
                       "lines_mismatch": "lines_do_not_sum", "unknown_tax_group": "unknown_tax_code",
                       "malformed_vat": "invalid_vat_number"}
    assert set(defects.values()) == set(expected_reason)
    items = {item.record_id: item for item in spine.store().exceptions.list("demo")}
    for deal_id, kind in defects.items():
        item = items[deal_id]
        assert item.reason_code == expected_reason[kind], (kind, item.detail)
        assert item.owner in ("sales-ops", "finance") and len(item.detail) > 15
        assert f"DEAL-{deal_id}" not in spine.invoices_by_reference()
    assert "XXX" in items[next(d for d, k in defects.items() if k == "unknown_currency")].detail
    assert "-" in items[next(d for d, k in defects.items() if k == "negative_amount")].detail
    assert result["counts"]["invoices_created"] == len(spine.eligible_deals())


def test_a_fixed_deal_leaves_the_queue_and_is_invoiced_on_the_next_run(spine):
    spine.run()
    deal_id = next(d for d, k in spine.defective_deals().items() if k == "negative_amount")
    lines_total = sum(Decimal(l["quantity"]) * Decimal(l["price"]) * (100 - Decimal(l.get("hs_discount_percentage") or 0)) / 100
                      for l in spine.lines(deal_id))
    spine.hubspot.update("deals", deal_id, {"amount": str(lines_total.quantize(Decimal("0.01")))})
    again = spine.run()
    assert again["counts"]["invoices_created"] == 1
    assert len(spine.invoices_by_reference()[f"DEAL-{deal_id}"]) == 1
    store = spine.store()
    assert deal_id not in {i.record_id for i in store.exceptions.list("demo")}
    assert [e.action for e in store.audit.search("demo", deal_id=deal_id)][-2:] == ["invoice.created", "deal.written_back"]


def test_unchanged_bad_deal_is_skipped_not_failed_again(spine):
    spine.run()
    attempts = {i.record_id: i.attempts for i in spine.store().exceptions.list("demo")}
    spine.run()
    assert {i.record_id: i.attempts for i in spine.store().exceptions.list("demo")} == attempts


def test_an_exception_marked_for_retry_is_processed_again_on_the_next_run(spine):
    spine.run()
    store = spine.store()
    deal_id = next(d for d, k in spine.defective_deals().items() if k == "unknown_tax_group")
    [item] = [i for i in store.exceptions.list("demo") if i.record_id == deal_id]
    from ledgerlink.store.tables import ExceptionStatus

    store.exceptions.set_status(item.id, ExceptionStatus.RETRYING)
    again = spine.run()
    assert again["counts"]["candidates"] >= 1  # re-read by id although the deal did not change
    retried = store.exceptions.get(item.id)
    assert (retried.status, retried.attempts, retried.reason_code) == ("open", 2, "unknown_tax_code")


def test_rotated_xero_refresh_token_is_kept_in_the_store_and_survives_expiry(spine):
    spine.run()
    store = spine.store()
    first = store.tokens.load("demo", "xero").refresh_token
    assert first and first != "rt-sandbox-0"  # the bootstrap token was spent and replaced
    spine.control("xero", "xero/expire-tokens")
    assert spine.run()["status"] == "completed"
    assert store.tokens.load("demo", "xero").refresh_token not in (first, "rt-sandbox-0")


def test_run_publishes_a_table_artifact_ops_can_read(spine):
    import json

    from prefect.artifacts import Artifact

    spine.run()
    artifact = Artifact.get("won-deal-to-invoice-demo")
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    outcomes = {row["outcome"] for row in rows}
    assert "invoiced" in outcomes and "exception: currency_not_allowed" in outcomes


def test_ambiguous_customer_match_is_left_to_finance_and_nothing_is_created(spine):
    deal_id = next(iter(spine.eligible_deals()))
    [(company_id, _)] = spine.hubspot.associations.targets("deals", int(deal_id), "companies")
    company = spine.hubspot.companies.get(company_id).props
    for name in ("Duplicate One", "Duplicate Two"):  # two accounting contacts claim the same VAT number
        spine.books.add_contact(name, TaxNumber=company["vat_number"])
    spine.run()
    [item] = [i for i in spine.store().exceptions.list("demo") if i.record_id == deal_id]
    assert (item.reason_code, item.owner) == ("customer_merge_review", "finance")
    assert "accounting contacts match by vat number" in item.detail and "Duplicate Two" in item.detail
    assert f"DEAL-{deal_id}" not in spine.invoices_by_reference()
    assert not [c for c in spine.books.contacts.values() if c.get("ContactNumber") == str(company_id)]


def test_retry_now_re_processes_just_the_records_set_to_retry(spine):
    from flows.contact_to_accounting_contact import contact_to_accounting_contact
    from flows.won_deal_to_invoice import won_deal_to_invoice
    from ledgerlink.store.tables import ExceptionStatus

    spine.sync_contacts()
    spine.run()
    store = spine.store()
    deal_item = store.exceptions.list("demo", "won-deal-to-invoice")[0]
    company_item = store.exceptions.list("demo", "contact-to-accounting-contact")[0]
    for item in (deal_item, company_item):
        store.exceptions.set_status(item.id, ExceptionStatus.RETRYING)

    deals = won_deal_to_invoice(tenant="demo", only_retries=True)
    companies = contact_to_accounting_contact(tenant="demo", only_retries=True)

    assert "deals_read" not in deals["counts"] and deals["counts"]["candidates"] <= 1
    assert companies["counts"]["retried"] == 1 and "companies_read" not in companies["counts"]
    for item in (deal_item, company_item):  # still wrong at the source: open again, one more attempt
        again = store.exceptions.get(item.id)
        assert (again.status, again.attempts) == ("open", item.attempts + 1)
