"""CRM companies for the finance-ready path: good ones, broken ones, and the steps they go through.

`finance_ready` makes the calls `tasks.customers._finance_ready` makes, in its order and with its
exception handling (read the spec's fields, `party_from_fields`, one gate call, the first failure's
reason code with every message joined), without a Prefect context or a store.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from badinput_corruptions import DELETE, UNPARSEABLE
from badinput_deals import named_text
from badinput_setup import CRMS, CURRENCIES, CUSTOMER_SPEC
from badinput_values import EMAILS, HUGE_DIGITS, INJECTIONS, UNICODE, hostile_value, wrong_types
from ledgerlink.mapping import MappingError, party_from_fields, read_fields
from ledgerlink.model import Party
from ledgerlink.store.exception_queue import NewException

BAD_EMAILS = ["jane@@example", "jane.doe@example", "a@b", "@@@", "sipho @ example . com", "thandi.nkosi",
              "thandi@karoo .co.za", "<thandi@karoo.co.za>\n<sipho@karoo.co.za>"] + INJECTIONS[:6]


@dataclass(frozen=True)
class Company:
    crm: str
    record: dict  # the flat CRM company record (properties plus `id`)
    expected: Party | None = None  # for good companies: the Party it must become

    @property
    def id(self) -> str:
        return self.record["id"]


def _key(crm: str, field: str) -> str:
    return CUSTOMER_SPEC.fields_for(crm)[field].partition(".")[2]


@st.composite
def good_companies(draw, company_id: str, crm: str | None = None) -> Company:
    crm = crm or draw(st.sampled_from(CRMS))
    fields = CUSTOMER_SPEC.fields_for(crm)
    vat = draw(st.none() | st.from_regex(r"4[0-9]{9}", fullmatch=True))
    values = {"name": draw(named_text()), "email": draw(st.sampled_from(
                  ["thandi.nkosi@karoo.example.co.za", "jäne@exämple.com", "accounts+za@a.io"])),
              "phone": draw(st.none() | st.sampled_from(["+27 21 555 0101", "021 555 0101"])),
              "vat_number": None if vat is None else f" {vat[:4]} {vat[4:]}\t", "currency": draw(st.sampled_from(CURRENCIES)),
              "payment_terms_days": str(draw(st.integers(0, 365))), "address_line1": draw(named_text()),
              "city": draw(st.none() | named_text()), "postal_code": draw(st.none() | st.just("7646")),
              "country": draw(st.none() | st.just("ZA"))}
    record = {"id": company_id, **{_key(crm, k): v for k, v in values.items() if k in fields and v is not None}}
    get = {k: (values[k] if k in fields else None) for k in values}
    expected = Party(name=get["name"].strip(), crm_id=company_id, email=get["email"], phone=get["phone"],
                     vat_number=vat, currency=get["currency"], payment_terms_days=int(get["payment_terms_days"]),
                     address=_address(get))
    return Company(crm, record, expected)


def _address(get: dict):
    from ledgerlink.model import Address

    return Address(get["address_line1"], get["city"], get["postal_code"], get["country"])


@dataclass(frozen=True)
class BrokenCompany:
    company: Company
    label: str
    value: object
    accepted: frozenset[tuple[str, str]]  # (reason code, text the field name must contain)

    def explains(self, reason_code: str, field_text: str) -> bool:
        return any(code == reason_code and needle in field_text for code, needle in self.accepted)


BROKEN_KINDS = ("name missing", "email missing", "email invalid", "address missing", "currency missing",
                "currency unknown", "payment terms missing", "payment terms out of range",
                "payment terms unreadable", "VAT number invalid", "text field of a wrong type")


@st.composite
def broken_companies(draw, company_id: str, crm: str, label: str | None = None) -> BrokenCompany:
    """A company one change away from finance-ready (of kind `label`, or any), with the reasons
    that may be given for it."""
    good = draw(good_companies(company_id, crm))
    ready = frozenset({("not_finance_ready", "")})
    missing = st.sampled_from([DELETE, None, "", "  \t"])
    kinds = {
        "name missing": ("name", missing, ready),
        "email missing": ("email", missing, ready),
        "email invalid": ("email", st.sampled_from(BAD_EMAILS), ready),
        "address missing": ("address_line1", missing, ready),
        "currency missing": ("currency", missing, ready),
        "currency unknown": ("currency", st.sampled_from(["EUR", "zar", "ZAR\x00", "XXX"] + INJECTIONS[:5]), ready),
        "payment terms missing": ("payment_terms_days", st.sampled_from([DELETE, None, ""]), ready),
        "payment terms out of range": ("payment_terms_days", st.sampled_from(["-1", "366", "99999", "400"]), ready),
        "payment terms unreadable": ("payment_terms_days", st.one_of(st.sampled_from(
            ["30 days", "30.5", "thirty", HUGE_DIGITS, "1e2"] + INJECTIONS), wrong_types()),
            frozenset({(UNPARSEABLE, "payment terms")})),
        "VAT number invalid": ("vat_number", st.sampled_from(["123", "5123456789", HUGE_DIGITS] + EMAILS + UNICODE[:4]),
                               frozenset({("invalid_vat_number", "")})),
        "text field of a wrong type": (None, wrong_types(), frozenset({(UNPARSEABLE, "")})),
    }
    assert set(kinds) == set(BROKEN_KINDS)
    label = label or draw(st.sampled_from(BROKEN_KINDS))
    field, values, accepted = kinds[label]
    if field is None:
        field = draw(st.sampled_from(["name", "email", "vat_number", "currency", "address_line1"]))
        accepted = frozenset({(UNPARSEABLE, field.replace("_", " "))})
    value = draw(values)
    record = dict(good.record)
    if value is DELETE:
        record.pop(_key(good.crm, field), None)
    else:
        record[_key(good.crm, field)] = value
    return BrokenCompany(Company(good.crm, record), f"{label} ({field})", value, accepted)


@st.composite
def scrambled_companies(draw, company_id: str, crm: str) -> Company:
    good = draw(good_companies(company_id, crm))
    record = dict(good.record)
    for field in draw(st.lists(st.sampled_from(sorted(CUSTOMER_SPEC.fields_for(good.crm))), min_size=1, max_size=4)):
        if field != "crm_id":
            record[_key(good.crm, field)] = draw(hostile_value())
    return Company(good.crm, record)


@dataclass
class ReadyOutcome:
    parties: dict[str, Party]
    problems: dict[str, NewException]
    named: dict[str, list[tuple[str, str]]]  # company id -> (reason code, field) its problem names


def finance_ready(companies: list[Company], gate) -> ReadyOutcome:
    """What `_finance_ready` decides for these companies (all of one CRM)."""
    fields_map = CUSTOMER_SPEC.fields_for(companies[0].crm)
    out = ReadyOutcome({}, {}, {})
    rows = []
    for company in companies:
        cid = company.id
        try:
            fields = read_fields({"company": company.record}, fields_map)
            out.parties[cid] = party = party_from_fields(fields)
            rows.append({"company_id": cid, **{k: fields.get(k) for k in
                         ("name", "email", "address_line1", "city", "country", "currency")},
                         "vat_number": party.vat_number, "payment_terms_days": party.payment_terms_days})
        except (MappingError, ValueError) as err:
            out.problems[cid] = _problem(cid, UNPARSEABLE, f"cannot read company: {err}")
            out.named[cid] = [(UNPARSEABLE, getattr(err, "field_name", ""))]
    if rows:
        result = gate.validate(rows, parameters={"tenant_currencies": list(CURRENCIES)})
        for cid, failures in result.failed.items():
            out.problems[cid] = _problem(cid, failures[0].reason_code, "; ".join(f.message for f in failures),
                                         failures[0].owner)
            out.named[cid] = [(f.reason_code, f.column) for f in failures]
            out.parties.pop(cid, None)
    return out


def _problem(cid: str, reason: str, detail: str, owner: str | None = None) -> NewException:
    return NewException("company", cid, reason, detail, owner or CUSTOMER_SPEC.owner_for(reason))
