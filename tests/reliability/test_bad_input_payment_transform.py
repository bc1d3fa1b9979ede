"""Canonical invoices — extreme, and of the wrong types — through `invoice_payment` and the
payment-to-crm spec's derive rules and property templates.

Why: `update_linked` turns TransformError, ConditionError, KeyError, ValueError and ArithmeticError
into an exception item and lets anything else stop the page. A status that is a plain string, a
total of 1E-400 or a due date of 9999-12-31 must therefore end as a TransformError that names the
field — not an AttributeError, not an OverflowError, and not "[<class 'decimal.InvalidOperation'>]"
as the only reason finance is given.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_accounting import TRANSLATORS
from badinput_checks import floats_in, message_unreadable
from badinput_tally import tried
from badinput_values import HUGE_DIGITS, hostile_text, wrong_types
from ledgerlink.ledger import LedgerInvoice
from ledgerlink.model import InvoiceStatus
from ledgerlink.money import MAX_AMOUNT
from ledgerlink.spec import load_spec
from ledgerlink.transforms import TransformError, invoice_payment, render
from tasks.linked_update import derive, rendered_properties

SPEC = load_spec("payment-to-crm")
TZ = ZoneInfo("Africa/Johannesburg")
EXTREME_AMOUNTS = [Decimal(x) for x in ("1E+400", "-1E+400", "1E-400", "-0", "0", "1E+999999", "NaN", "sNaN",
                                        "Infinity", "-Infinity", "999999999999999.99", "0.0000001", "-1170.00")]
EXTREME_AMOUNTS.append(Decimal(HUGE_DIGITS))
WRONG = st.one_of(wrong_types(), hostile_text(), st.none())


def amounts(wrong: bool) -> st.SearchStrategy:
    good = st.decimals(Decimal("-1E+6"), Decimal("1E+6"), places=2) | st.integers(-10**6, 10**6)
    extreme = st.sampled_from(EXTREME_AMOUNTS) | st.decimals(allow_nan=True, allow_infinity=True)
    return st.one_of(good, extreme, WRONG) if wrong else st.one_of(good, extreme)


@st.composite
def canonical_invoices(draw) -> LedgerInvoice:
    """A LedgerInvoice; with `wrong`, some fields hold what the type annotation does not allow."""
    wrong = draw(st.booleans())
    days = st.none() | st.dates() | st.sampled_from([date.min, date.max])
    status = st.sampled_from(list(InvoiceStatus))
    if wrong:
        status = status | st.sampled_from(["paid", "AUTHORISED", None, 3])
        days = days | st.sampled_from([datetime(2026, 1, 1, tzinfo=timezone.utc), "2026-01-01", 20260101])
    text = hostile_text() | WRONG if wrong else hostile_text()
    return LedgerInvoice(
        id=draw(st.sampled_from(["inv-1", "٣", "\u202e1"])), number=draw(st.none() | text),
        reference=draw(st.none() | text), contact_id="c-1", status=draw(status), currency=draw(text),
        subtotal=draw(amounts(wrong)), total_tax=draw(amounts(wrong)), total=draw(amounts(wrong)),
        amount_paid=draw(amounts(wrong)), amount_due=draw(amounts(wrong)), amount_credited=draw(amounts(wrong)),
        issue_date=draw(days), due_date=draw(days), fully_paid_on=draw(days))


def crm_values(invoice) -> dict[str, str] | str:
    """What payment-to-crm would write to the deal, or the message of its TransformError."""
    try:
        values = invoice_payment(invoice, TZ)
    except TransformError as err:
        assert message_unreadable(str(err)) is None, message_unreadable(str(err))
        return str(err)
    assert not floats_in(values), floats_in(values)
    for name in ("total", "amount_paid", "amount_due", "amount_credited", "paid_ratio"):
        assert type(values[name]) is Decimal and values[name].is_finite()
    properties = rendered_properties(SPEC, derive(SPEC, values))
    for value in values.values():
        render(value)
    assert all(isinstance(text, str) for text in properties.values())
    return properties


def unusable_fields(invoice: LedgerInvoice) -> list[str]:
    """The fields the canonical model does not allow to hold what they hold (see ledgerlink.ledger)."""
    bad = [] if isinstance(invoice.status, InvoiceStatus) else ["status"]
    bad += [n for n in ("number", "currency") if not isinstance(getattr(invoice, n), (str, type(None)))]
    for name in ("total", "amount_paid", "amount_due", "amount_credited"):
        value = getattr(invoice, name)
        exact = isinstance(value, (Decimal, int)) and not isinstance(value, bool)
        if not exact or not Decimal(value).is_finite() or abs(value) >= MAX_AMOUNT \
                or Decimal(value) % Decimal("1E-6") != 0:
            bad.append(name)
    for name in ("due_date", "fully_paid_on"):
        value = getattr(invoice, name)
        if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
            bad.append(name)
    return bad


@settings(max_examples=400)
@given(canonical_invoices())
def test_any_canonical_invoice_gives_crm_values_or_a_transform_error_naming_the_field(invoice):
    tried("payment transform: canonical invoice -> CRM values or TransformError")
    outcome, bad = crm_values(invoice), unusable_fields(invoice)
    if not bad:
        assert isinstance(outcome, dict), outcome
    else:
        assert isinstance(outcome, str), f"{bad} slipped through"
        assert any(name in outcome for name in bad), (outcome, bad)


@settings(max_examples=100)
@given(st.sampled_from([t for t in TRANSLATORS if t.produces is LedgerInvoice]).flatmap(
    lambda t: st.tuples(st.just(t), t.good)))
def test_every_translated_vendor_invoice_gives_crm_values(case):
    translator, raw = case
    tried("payment transform: translated vendor invoice -> CRM values")
    assert isinstance(crm_values(translator.translate(raw)), dict)
