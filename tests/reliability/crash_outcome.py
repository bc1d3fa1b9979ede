"""What a tenant's world looks like after its runs, in terms that do not depend on which run did
what: so a world whose runs were killed many times can be compared with a clean one.

Vendor ids and invoice numbers differ between two worlds (a killed run may spend a number), so
each is replaced by what it stands for: an invoice by its deterministic reference, a contact by
the CRM id it carries, a written-back invoice number by "the number of DEAL-<id>'s invoice".
Duplicates (two invoices for one reference, two contacts for one CRM id, an audit event written
twice) and losses (anything the clean world has that this one lacks) are counted apart from
other differences.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from ledgerlink.store.exception_queue import ACTIVE
from ledgerlink.store.tables import ExceptionItem, RecordLink, SyncCursor
from ledgerlink.store.write_intents import UNSETTLED
from sqlmodel import col, select

AUDITED_ONCE = ("invoice.created", "customer.created", "customer.matched", "deal.written_back",
                "company.written_back", "trigger.onboarding", "payment-to-crm.updated")


@dataclass
class Snapshot:
    """Both vendors (through the observer) and the store (read directly), at one moment."""

    invoices: list
    contacts: list
    deals: dict[str, tuple[int, dict]]
    companies: dict[str, tuple[int, dict]]
    payments: list
    credit_notes: list
    links: dict[str, dict[str, RecordLink]]  # object type -> crm id -> link
    exceptions: dict[tuple[str, str], ExceptionItem]  # (handoff, record id) -> open or retrying item
    cursors: dict[str, str]
    unsettled: list[str]  # "object_type:record_key" of intents no run has settled
    audit: Counter = field(default_factory=Counter)  # (action, record id) -> events
    events: Counter = field(default_factory=Counter)  # deal id -> onboarding events Prefect holds


def snapshot(world, *, ledger_changes: bool = True, events: bool = False) -> Snapshot:
    with world.observer() as observer:
        invoices, contacts = observer.invoices(), observer.contacts()
        deals, companies = observer.crm_records("deals"), observer.crm_records("companies")
        payments = observer.changes("payments") if ledger_changes else []
        credit_notes = observer.changes("credit_notes") if ledger_changes else []
    snap = Snapshot(invoices, contacts, deals, companies, payments, credit_notes, *_store_state(world))
    if events:
        fired = world.store().triggers.fired(world.tenant, "payment-to-crm", "onboarding")
        snap.events = onboarding_events(world, expected=set(fired))
    return snap


def onboarding_events(world, expected: set[str], timeout_s: float = 12.0) -> Counter:
    """Onboarding events the Prefect server holds for the world's deals (deal id -> events). Prefect
    stores events a few seconds after they arrive: wait (a while) for those the store says fired."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    wanted = EventFilter(event=EventNameFilter(name=["ledgerlink.deal.deposit-received"]),
                         resource=EventResourceFilter(id_prefix=[f"ledgerlink.{world.tenant}.deals."]))
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            page, found = client.read_events(filter=wanted, limit=50), Counter()
            while True:
                found.update(event.resource.id.rsplit(".", 1)[-1] for event in page.events)
                if not page.next_page:
                    break
                page = client.read_events_page(page.next_page)
            if expected <= set(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def _store_state(world):
    store, tenant = world.store(), world.tenant
    with store.session() as session:
        links: dict[str, dict[str, RecordLink]] = {}
        for link in session.exec(select(RecordLink).where(RecordLink.tenant == tenant)):
            links.setdefault(link.object_type, {})[link.crm_id] = link
        exceptions = {(item.handoff, item.record_id): item for item in session.exec(
            select(ExceptionItem).where(ExceptionItem.tenant == tenant, col(ExceptionItem.status).in_(ACTIVE)))}
        cursors = {row.handoff: row.value for row in session.exec(select(SyncCursor).where(SyncCursor.tenant == tenant))}
    unsettled = sorted(f"{object_type}:{intent.record_key}" for object_type in ("invoice", "customer")
                       for intent in store.intents.unsettled(tenant, object_type) if intent.status in UNSETTLED)
    audit = Counter()
    for event in store.audit.search(tenant, limit=1_000_000):
        if event.action in AUDITED_ONCE:
            audit[(event.action, event.deal_id or event.customer_id or event.invoice_number)] += 1
    return links, exceptions, cursors, unsettled, audit


@dataclass
class Fingerprint:
    invoices: dict[str, tuple]  # reference -> what the customer sees
    invoice_counts: Counter  # reference -> invoices carrying it
    contacts: dict[str, tuple]  # CRM id -> contact
    contact_counts: Counter  # CRM id -> contacts carrying it
    deals: dict[str, tuple]  # deal id -> written-back and payment fields (normalised)
    companies: dict[str, tuple]  # company id -> written-back accounting id (normalised)
    exceptions: dict[tuple[str, str], tuple]  # (handoff, record id) -> (reason, owner, status)
    links: dict[tuple[str, str], tuple]  # (object type, crm id) -> (what it points at, written back)
    unsettled: list[str]
    audit: Counter
    events: dict[str, int]  # deal id -> onboarding events


def fingerprint(snap: Snapshot) -> Fingerprint:
    contact_by_id = {c.id.lower(): c for c in snap.contacts}
    invoice_by_id = {i.id.lower(): i for i in snap.invoices}
    number_of = {i.reference: i.number for i in snap.invoices if i.live}
    id_of = {i.reference: i.id for i in snap.invoices if i.live}

    def customer(contact_id):
        contact = contact_by_id.get((contact_id or "").lower())
        return (contact.crm_id, contact.name) if contact else ("unknown contact", contact_id)

    invoices = {i.reference: (i.currency, str(i.subtotal), str(i.total_tax), str(i.total), i.status.value,
                              str(i.amount_paid), str(i.amount_due), str(i.amount_credited), str(i.issue_date),
                              str(i.due_date), str(i.fully_paid_on), len(i.lines), *customer(i.contact_id))
                for i in snap.invoices if i.reference}
    contacts = {c.crm_id: (c.name, c.tax_number, c.email, c.active) for c in snap.contacts if c.crm_id}
    contacts.update({f"(no CRM id) {c.name}": (c.name, c.tax_number, c.email, c.active)
                     for c in snap.contacts if not c.crm_id})

    def deal_fields(deal_id: str, props: dict) -> tuple:
        reference = f"DEAL-{deal_id}"
        out = []
        for name in sorted(props):
            value = props[name]
            if name == "ledgerlink_invoice_number" and value and value == number_of.get(reference):
                value = f"the number of {reference}"
            elif name == "ledgerlink_invoice_id" and value and value == id_of.get(reference):
                value = f"the id of {reference}"
            out.append((name, value or None))
        return tuple(out)

    def accounting_ref(object_type: str, accounting_id: str) -> str:
        if object_type == "invoice":
            invoice = invoice_by_id.get(accounting_id.lower())
            return f"invoice {invoice.reference}" if invoice else f"missing invoice {accounting_id}"
        contact = contact_by_id.get(accounting_id.lower())
        return f"contact {contact.crm_id or contact.name}" if contact else f"missing contact {accounting_id}"

    companies = {cid: tuple((name, accounting_ref("customer", value) if value else None)
                            for name, value in sorted(props.items())) for cid, (_, props) in snap.companies.items()}
    links = {(object_type, crm_id): (accounting_ref(object_type, link.accounting_id), link.written_back)
             for object_type, by_crm in snap.links.items() for crm_id, link in by_crm.items()}
    return Fingerprint(
        invoices=invoices, invoice_counts=Counter(i.reference for i in snap.invoices if i.reference),
        contacts=contacts, contact_counts=Counter(c.crm_id for c in snap.contacts if c.crm_id),
        deals={deal_id: deal_fields(deal_id, props) for deal_id, (_, props) in snap.deals.items()},
        companies=companies,
        exceptions={key: (item.reason_code, item.owner, item.status) for key, item in snap.exceptions.items()},
        links=links, unsettled=list(snap.unsettled), audit=Counter(snap.audit), events=dict(snap.events))


@dataclass
class Comparison:
    duplicates: list[str]
    lost: list[str]
    different: list[str]

    @property
    def problems(self) -> list[str]:
        return [*self.duplicates, *self.lost, *self.different]


def compare(clean: Fingerprint, other: Fingerprint) -> Comparison:
    """Every way `other` is not the clean world: doubled, missing, or otherwise different."""
    result = Comparison([], [], [])
    result.duplicates += [f"{n} invoices carry reference {ref}" for ref, n in other.invoice_counts.items() if n > 1]
    result.duplicates += [f"{n} contacts carry CRM id {cid}" for cid, n in other.contact_counts.items() if n > 1]
    result.duplicates += [f"{n} onboarding events for deal {deal}" for deal, n in other.events.items() if n > 1]
    for (action, record), n in other.audit.items():
        want = clean.audit.get((action, record), 0)
        if n > want:
            (result.duplicates if want else result.different).append(
                f"audit {action} for {record} written {n} times (clean: {want})")
    for label, want, have in (("invoice", clean.invoices, other.invoices), ("contact", clean.contacts, other.contacts),
                              ("deal", clean.deals, other.deals), ("company", clean.companies, other.companies),
                              ("exception", clean.exceptions, other.exceptions), ("link", clean.links, other.links),
                              ("onboarding events of deal", clean.events, other.events)):
        for key, value in want.items():
            if key not in have:
                result.lost.append(f"{label} {key} is missing (clean: {value})")
            elif have[key] != value:
                result.different.append(f"{label} {key}: {have[key]} (clean: {value})")
        result.different += [f"{label} {key} is extra: {have[key]}" for key in have if key not in want]
    result.lost += [f"audit {action} for {record} missing (clean: {n}, here: {other.audit.get((action, record), 0)})"
                    for (action, record), n in clean.audit.items() if other.audit.get((action, record), 0) < n]
    result.different += [f"write intent {key} never settled" for key in other.unsettled]
    return result
