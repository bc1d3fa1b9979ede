"""Raw Xero and QuickBooks records through their translators into the canonical ledger types.

Why: the translators run inside the connectors' page reads. A KeyError or AttributeError there
ends the read of a whole page — and says "bug in ledgerlink" where it should say "Xero invoice
'INV-0042': LineItems[0] is a str, not a record". So: a readable record becomes canonical types
(exact Decimals, dates, aware times, text); an unreadable one is refused with a ValueError that
names the field that was changed, in one short line.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_accounting import TRANSLATORS, canonical_problems, hostile_records
from badinput_checks import message_unreadable
from badinput_tally import tried


@st.composite
def hostile_cases(draw):
    translator = draw(st.sampled_from(TRANSLATORS))
    raw, changed = draw(hostile_records(translator))
    return translator, raw, changed


@settings(max_examples=600)
@given(hostile_cases())
def test_malformed_vendor_record_is_refused_with_a_value_error_naming_the_field(case):
    translator, raw, changed = case
    tried("accounting records: hostile raw record -> canonical or named ValueError")
    tried(f"accounting records: hostile raw record, of which {translator.name}")
    try:
        result = translator.translate(raw)
    except ValueError as err:
        message = str(err)
        assert message_unreadable(message) is None, message_unreadable(message)
        named = [_words(path, translator.wrapped) for path in changed]
        assert any(word in message.lower() for words in named for word in words), (message, changed)
        return
    assert isinstance(result, translator.produces) or (result is None and "tax_rate" in translator.name)
    assert canonical_problems(result) == []


@settings(max_examples=100)
@given(st.sampled_from(TRANSLATORS).flatmap(lambda t: st.tuples(st.just(t), t.good)))
def test_good_vendor_record_translates_to_canonical_types(case):
    translator, raw = case
    tried("accounting records: good raw record -> canonical types")
    result = translator.translate(raw)
    assert isinstance(result, translator.produces) and canonical_problems(result) == []


def _words(path: tuple, wrapped: bool) -> list[str]:
    """What a refusal of a change at `path` may name: a key on the path, or the record it replaced."""
    if not path:  # the whole record was replaced: any of its fields may be the first found wanting
        return [""]
    keys = [str(step).lower() for step in path if isinstance(step, str)]
    if wrapped and len(path) == 1:  # a whole part of a QuickBooks case (the invoice) was replaced
        keys += ["not a record", "missing"]
    if path and isinstance(path[-1], int):  # a list item: named as Key[index]
        keys.append(f"[{path[-1]}]")
    return [key.removesuffix("s") if key in ("payments", "rates") else key for key in keys]
