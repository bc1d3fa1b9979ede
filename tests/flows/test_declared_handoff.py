"""A handoff declared only in YAML (tests/flows/fixtures/invoice_status_echo.yaml) runs end to end
through the generic `declared-handoff` flow: no flow code, no new transform. A broken spec is
refused before anything runs, with an error that names the file and the field."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

ECHO = Path(__file__).parent / "fixtures" / "invoice_status_echo.yaml"
CENT = Decimal("0.01")
PAYMENT_PROPERTIES = ("ledgerlink_amount_paid", "ledgerlink_paid_date", "ledgerlink_invoice_currency")


def _echo(handoff: Path = ECHO) -> dict:
    from flows.linked_update import declared_handoff

    return declared_handoff(handoff=str(handoff), tenant="demo")


def _declared(invoice: dict) -> dict[str, str]:
    """What the fixture declares for one invoice, worked out here from the sandbox's own books."""
    due, paid = Decimal(str(invoice["AmountDue"])), Decimal(str(invoice["AmountPaid"]))
    if invoice["Status"] in ("VOIDED", "DELETED"):
        settlement = "cancelled"
    else:
        settlement = "settled" if due == 0 else "part-paid" if paid > 0 else "open"
    return {"ledgerlink_invoice_status": f"{invoice['Status'].lower()} ({settlement})",
            "ledgerlink_amount_due": format(due.quantize(CENT), "f")}


def test_a_handoff_declared_only_in_yaml_writes_exactly_its_declared_values_once(spine):
    spine.run()
    deals = sorted(spine.eligible_deals(), key=int)
    part, full = deals[:2]
    on = date(2026, 11, 20)
    spine.books.pay(spine.invoice_for(part)["InvoiceID"], Decimal("100.10"), on)
    full_total = Decimal(str(spine.invoice_for(full)["Total"]))
    spine.books.pay(spine.invoice_for(full)["InvoiceID"], full_total, on)
    spine.reset_stats()

    first = _echo()

    assert first["status"] == "completed"
    assert first["counts"]["records_updated"] == len(deals)
    assert first["counts"]["trigger_settled"] == 1
    hubspot = spine.stats("hubspot")
    assert hubspot["calls"]["POST /crm/v3/objects/{objectType}/batch/update"] == math.ceil(len(deals) / 25)
    part_total = Decimal(str(spine.invoice_for(part)["Total"]))
    assert spine.deal(part)["ledgerlink_invoice_status"] == "authorised (part-paid)"
    assert spine.deal(part)["ledgerlink_amount_due"] == format(part_total - Decimal("100.10"), "f")
    assert spine.deal(full)["ledgerlink_invoice_status"] == "paid (settled)"
    assert spine.deal(full)["ledgerlink_amount_due"] == "0.00"
    for deal_id in deals:
        props = spine.deal(deal_id)
        declared = _declared(spine.invoice_for(deal_id))
        assert {key: props.get(key) for key in declared} == declared, deal_id
        assert not any(props.get(key) for key in PAYMENT_PROPERTIES), deal_id  # undeclared: untouched
    for deal_id in spine.defective_deals():  # never invoiced, so never linked: not ours to touch
        assert "ledgerlink_invoice_status" not in spine.deal(deal_id)

    spine.reset_stats()
    second = _echo()

    assert second["status"] == "completed"
    assert second["counts"].get("records_updated", 0) == 0
    assert second["counts"].get("trigger_settled", 0) == 0  # fired once, never again
    assert spine.stats("hubspot")["writes"] == 0 and spine.stats("xero")["writes"] == 0
    store = spine.store()
    assert store.triggers.fired("demo", "invoice-status-echo", "settled") == [full]
    assert store.triggers.fired("demo", "payment-to-crm", "onboarding") == []  # its own memory


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(ECHO.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken_echo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


BROKEN = {
    "function call in a derive rule": (
        lambda d: d["derive"]["settlement"][1].update(when="abs(amount_due) == 0"),
        "derive.settlement.1.when", "uses Call, which specs may not use"),
    "method call in a trigger": (
        lambda d: d["triggers"][0].update(when='status.lower() == "paid"'),
        "triggers.0.when", "which specs may not use"),
    "unknown top-level key": (
        lambda d: d.update(propertes=d.pop("properties")),
        "propertes", "Extra inputs are not permitted"),
    "unknown key in a rule": (
        lambda d: d["derive"]["settlement"][0].update(otherwise="open"),
        "derive.settlement.0.otherwise", "Extra inputs are not permitted"),
    "unknown key in a side": (
        lambda d: d["source"].update(id_feild="InvoiceID"),
        "source.id_feild", "Extra inputs are not permitted"),
    "a vendor's field name as the source key": (
        lambda d: d["source"].update(id_field="InvoiceID"),
        "source", "id_field 'InvoiceID' is not a field of accounting invoices"),
    "batch larger than HubSpot allows": (
        lambda d: d.update(batch_size=101),
        "batch_size", "less than or equal to 100"),
}


@pytest.mark.parametrize("change, field, reason", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_declared_spec_is_refused_naming_the_file_and_the_field(tmp_path, change, field, reason):
    from ledgerlink.spec import SpecError, load_spec

    path = _broken(tmp_path, change)
    with pytest.raises(SpecError) as refused:
        load_spec(str(path))
    message = str(refused.value)
    assert message.startswith(f"{path}:") and message[len(str(path)) + 1:].split(":")[0].isdigit()  # file:line
    assert f"{field}: " in message and reason in message


def test_the_generic_flow_refuses_a_broken_spec_before_touching_either_system(spine, tmp_path):
    from ledgerlink.spec import SpecError

    path = _broken(tmp_path, BROKEN["function call in a derive rule"][0])
    spine.reset_stats()
    with pytest.raises(SpecError, match=r"derive\.settlement\.1\.when: .*uses Call"):
        _echo(path)
    assert spine.stats("hubspot")["total"] == 0 and spine.stats("xero")["total"] == 0
