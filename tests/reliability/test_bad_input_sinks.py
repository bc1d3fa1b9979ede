"""Hostile text where ledgerlink writes it down: the exception queue and the audit log, on SQLite
and on PostgreSQL (which refuses NUL characters and unpaired surrogates in text columns).

Why: a reason quotes record values, and anyone can type a record value. Written as given, a NUL
or a lone surrogate makes PostgreSQL refuse the whole batch of exception items (the run dies
while recording why records could not move); a line break or an ANSI escape splits or drives the
terminal of whoever runs `ledgerlink exceptions list`; a malformed e-mail address slips past the
masking and sits readable in the queue and the audit log.
"""

from __future__ import annotations

import json
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badinput_checks import DETAIL_LIMIT
from badinput_tally import tried
from badinput_values import EMAILS, INJECTIONS, UNICODE, hostile_text, leaked_email, readable_problem
from ledgerlink.privacy import PERSONAL_KEYS
from ledgerlink.store.audit_log import NewAuditEvent
from ledgerlink.store.exception_queue import NewException

SEQUENCE = count(1)
PIECES = st.sampled_from(EMAILS + INJECTIONS + UNICODE + ["\x00", "\ud800", "\r\n", "; ", "got "]) | hostile_text()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sink_store(request, tmp_path_factory):
    """One migrated store per backend for the module (Hypothesis runs many examples against it)."""
    from ledgerlink.store import open_store

    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('sinks') / 'store.db'}")
    else:
        store = open_store(request.getfixturevalue("postgres_schema_url"))
    yield store
    store.dispose()


@settings(max_examples=30)
@given(st.lists(PIECES, min_size=1, max_size=6).map("".join))
def test_exception_detail_is_stored_as_one_masked_bounded_line(sink_store, text):
    tried(f"sinks: hostile exception detail stored ({sink_store.backend})")
    tenant = f"t{next(SEQUENCE)}"
    detail = f"cannot read deal: {text}" * (1 + len(text) % 3)
    sink_store.exceptions.raise_many(tenant, "won-deal-to-invoice", [
        NewException("deal", "101", "unparseable_field", detail, "sales-ops")])
    [item] = sink_store.exceptions.list(tenant)
    assert readable_problem(item.detail, DETAIL_LIMIT) is None, readable_problem(item.detail, DETAIL_LIMIT)
    assert leaked_email(item.detail) is None, leaked_email(item.detail)
    assert item.detail.startswith("cannot read deal: ") and item.record_id == "101"


def _values() -> st.SearchStrategy:
    """What a caller may put in a payload: JSON values (the column is JSON; NaN is not JSON)."""
    scalars = st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.none())
    return st.one_of(PIECES, scalars, st.lists(PIECES | scalars, max_size=3),
                     st.dictionaries(st.sampled_from(["email", "note", "name"]), PIECES, max_size=2))


@settings(max_examples=30)
@given(st.dictionaries(st.sampled_from(["name", "email", "phone", "customer_name", "detail", "reason", "values",
                                        '"}, "admin": true, "x": {"', "line1"]), _values(), min_size=1, max_size=6))
def test_audit_payload_keeps_its_shape_and_masks_every_address(sink_store, after):
    tried(f"sinks: hostile audit payload stored ({sink_store.backend})")
    tenant = f"a{next(SEQUENCE)}"
    sink_store.audit.append(tenant, [NewAuditEvent("exception.raised", deal_id="101", after=after)])
    [event] = sink_store.audit.search(tenant)
    stored = event.after
    fingerprints = {f"{key}_sha256" for key, value in after.items() if key in PERSONAL_KEYS and value is not None}
    assert set(stored) == set(after) | fingerprints  # nothing added, nothing lost, nothing broke out
    assert leaked_email(json.dumps(stored, ensure_ascii=False)) is None
    for key, value in after.items():
        if key in PERSONAL_KEYS and isinstance(value, str) and len(value.strip()) > 4:
            assert stored[key] != value.strip(), f"{key} stored unmasked"
    assert sink_store.audit.verify(tenant) is None
