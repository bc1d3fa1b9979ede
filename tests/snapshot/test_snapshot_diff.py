"""`ledgerlink snapshot diff A B` on two real snapshots: after a salesperson edits the CRM and a
customer pays an invoice, the diff lists exactly those changes — personal values masked unless
asked for — and says so in its exit code; bad input is one line and exit 2."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal

import pytest

NEW_EMAIL = "finance-desk@newdomain.example.co.za"


def _first_id(folder, object_type: str) -> str:
    with (folder / f"{object_type}.jsonl").open(encoding="utf-8") as handle:
        return json.loads(handle.readline())["id"]


def _crm_edits(books, folder) -> tuple[str, str, str, str]:
    """A deal's amount raised and a company's billing email corrected, through the CRM's API."""
    from ledgerlink.spec import load_spec
    from tasks.connect import crm_connector

    system = books.tenant.crm.system
    amount = load_spec("won-deal-to-invoice").mapping_for(system).deal["amount"].split(".", 1)[1]
    email = load_spec("contact-to-accounting-contact").fields_for(system)["email"].split(".", 1)[1]
    deal, company = _first_id(folder, "deals"), _first_id(folder, "companies")
    crm = crm_connector(books.tenant)
    try:
        assert all(r.ok for r in crm.batch_update("deals", {deal: {amount: "99999.00"}}))
        assert all(r.ok for r in crm.batch_update("companies", {company: {email: NEW_EMAIL}}))
    finally:
        crm.close()
    return deal, amount, company, email


def _diff(capsys, *args: str) -> tuple[int, str, str]:
    from ledgerlink.cli import main

    code = main(["snapshot", "diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _section(output: str, object_type: str) -> list[str]:
    """The headline of one object type and its record lines."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{object_type} "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return lines[start:end]


def test_a_diff_lists_exactly_the_crm_edits_and_the_payment(books, capsys):
    from tasks.snapshot import take_snapshot

    before = take_snapshot(books.tenant).folder
    deal, amount, company, email = _crm_edits(books, before)
    number = books.invoice_numbers[1]
    _, due = books.pair.accounting.invoice(number)
    books.pair.accounting.pay(number, due, date(2026, 11, 25))  # paid in full
    after = take_snapshot(books.tenant, books.home / "after-payment").folder
    capsys.readouterr()

    code, out, err = _diff(capsys, before.name, str(after))  # a name under snapshots/, and a path
    assert code == 1 and err == ""
    modified = {"hubspot": "hs_lastmodifieddate", "pipedrive": "update_time"}[books.tenant.crm.system]

    headline, change = _section(out, "deals")
    assert headline.split()[1:] == ["60", "→", "60", "1", "changed"]
    assert change.startswith(f"  ~ {deal}: ")
    assert [f.split(" ", 1)[0] for f in change.split(": ", 1)[1].split("; ")] == sorted([amount, modified])
    with (before / "deals.jsonl").open(encoding="utf-8") as handle:
        was = json.loads(handle.readline())["properties"][amount]
    assert f'{amount} "{was}" → "99999.00"' in change

    headline, change = _section(out, "companies")
    assert headline.endswith("1 changed") and change.startswith(f"  ~ {company}: ")
    assert [f.split(" ", 1)[0] for f in change.split(": ", 1)[1].split("; ")] == sorted([email, modified])
    assert NEW_EMAIL not in out and '"f***@n***.za"' in change  # personal: masked

    invoices = json.loads("[" + ",".join((after / "invoices.jsonl").read_text().splitlines()) + "]")
    paid = next(i for i in invoices if i["number"] == number)
    assert paid["status"] == "paid" and Decimal(paid["amount_due"]) == 0
    headline, change = _section(out, "invoices")
    assert headline.endswith("1 changed") and change.startswith(f"  ~ {paid['id']}: ")
    fields = {f.split(" ", 1)[0] for f in change.split(": ", 1)[1].split("; ")}
    assert {"status", "amount_paid", "amount_due"} <= fields  # updated_at too, unless in the same second
    assert fields <= {"status", "amount_paid", "amount_due", "updated_at", "fully_paid_on"}
    assert 'status "authorised" → "paid"' in change

    headline, added = _section(out, "payments")
    new_payment = next(p for p in map(json.loads, (after / "payments.jsonl").read_text().splitlines())
                       if p["invoice_ids"] == [paid["id"]])
    assert headline.split()[1:] == ["1", "→", "2", "1", "added"] and added == f"  + {new_payment['id']}"

    for same in ("line_items", "contacts", "credit_notes"):
        assert _section(out, same)[0].endswith("identical"), out
    assert out.splitlines()[-1].startswith("different: 1 added, 0 removed, 3 changed (personal fields masked")

    code, shown, _ = _diff(capsys, before.name, str(after), "--show-personal")
    assert code == 1 and f'"{NEW_EMAIL}"' in shown and "personal fields masked" not in shown
    code, same, _ = _diff(capsys, str(after), str(after))
    assert code == 0 and same.splitlines()[-1] == "identical: 0 added, 0 removed, 0 changed"


def _one_line_error(capsys, *args: str) -> str:
    code, out, err = _diff(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("ledgerlink: "), (code, out, err)
    return err


@pytest.mark.parametrize("books", [("hubspot", "xero")], indirect=True, ids=["hubspot+xero"])
def test_bad_input_is_one_line_and_exit_2(books, capsys, tmp_path):
    from tasks.snapshot import take_snapshot

    good = take_snapshot(books.tenant, tmp_path / "good").folder
    assert "no snapshot 'nowhere'" in _one_line_error(capsys, str(good), "nowhere")

    (tmp_path / "empty").mkdir()
    assert "has no manifest.json" in _one_line_error(capsys, str(good), str(tmp_path / "empty"))

    other = shutil.copytree(good, tmp_path / "other-tenant")
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "tenant": "acme"}))
    assert "different tenants (books, acme)" in _one_line_error(capsys, str(good), str(other))

    damaged = shutil.copytree(good, tmp_path / "damaged")
    with (damaged / "deals.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "1", "properties": {}}\n')
    assert "does not match its manifest" in _one_line_error(capsys, str(good), str(damaged))


@pytest.mark.parametrize("args", [["snapshot", "--help"], ["snapshot", "diff", "--help"]])
def test_snapshot_help_imports_neither_prefect_nor_great_expectations(args):
    import subprocess
    import sys

    code = (f"import sys\nfrom ledgerlink.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('prefect', 'great_expectations', 'httpx', 'connectors') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "--show-personal" in out or "--out DIR" in out
    assert out.strip().endswith("[]"), out


@pytest.mark.parametrize("books", [("hubspot", "xero")], indirect=True, ids=["hubspot+xero"])
def test_a_diff_needs_no_connection_and_no_prefect(books, tmp_path):
    """Snapshots are compared offline, by the core alone: no HTTP, no connectors, no Prefect."""
    import subprocess
    import sys

    from tasks.snapshot import take_snapshot

    folder = take_snapshot(books.tenant, tmp_path / "only").folder
    code = ("import sys\nfrom ledgerlink.cli import main\ncode = main(['snapshot', 'diff', sys.argv[1], sys.argv[1]])\n"
            "print(sorted(m for m in ('prefect', 'great_expectations', 'httpx', 'connectors', 'tasks') "
            "if m in sys.modules))\nsys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "identical: 0 added, 0 removed, 0 changed" in done.stdout and done.stdout.strip().endswith("[]")
