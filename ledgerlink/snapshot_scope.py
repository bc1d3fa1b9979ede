"""What a snapshot holds: the CRM properties ledgerlink may read or write for a tenant, and which
of them are personal data.

A backup before go-live must cover everything the handoffs could change (so a bad first run can
be undone field by field) and nothing more (POPIA: keep only the personal data a purpose needs).
The tenant's own specs, with its overrides, say exactly that: the won-deal mapping (deal,
customer and line paths, the write-back and the review annotations), the contact mapping and its
write-back, and the properties payment-to-crm writes. Deriving the list here, instead of keeping
a second list, means a spec change changes the snapshot too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledgerlink.customer_spec import CustomerSyncSpec
from ledgerlink.linked_spec import LinkedUpdateSpec
from ledgerlink.privacy import PERSONAL_KEYS
from ledgerlink.spec import HandoffSpec, load_spec
from ledgerlink.tenants import Tenant

CRM_OBJECTS = ("companies", "deals", "line_items")
ACCOUNTING_OBJECTS = ("contacts", "invoices", "payments", "credit_notes")
# A spec path's first word names the record it reads from (`deal.amount`, `company.vat_number`).
PATH_OBJECTS = {"deal": "deals", "company": "companies", "line": "line_items"}
# Customer fields that describe a person or where one can be found (the contact spec maps them
# to each CRM's own property names, which are not always in privacy.PERSONAL_KEYS).
PERSONAL_CUSTOMER_FIELDS = frozenset({"name", "email", "phone", "address_line1", "city", "postal_code"})
ACCOUNTING_PERSONAL = {"contacts": ["email", "name"]}


@dataclass
class SnapshotScope:
    """CRM properties per object type (id and change time come on top) and the personal ones."""

    properties: dict[str, list[str]]
    personal: dict[str, list[str]] = field(default_factory=dict)


def tenant_specs(tenant: Tenant) -> list:
    """The specs of the tenant's handoffs with its overrides; won deals also use the contact spec
    (every deal's customer goes through it), so it counts whenever won-deal-to-invoice does."""
    names = list(tenant.handoffs)
    if "won-deal-to-invoice" in names and "contact-to-accounting-contact" not in names:
        names.append("contact-to-accounting-contact")
    return [load_spec(name, tenant.overrides.get(name)) for name in names]


def snapshot_scope(tenant: Tenant, specs: list | None = None) -> SnapshotScope:
    system = tenant.crm.system
    wanted: dict[str, set[str]] = {name: set() for name in CRM_OBJECTS}
    personal: dict[str, set[str]] = {name: set() for name in CRM_OBJECTS}
    for spec in specs if specs is not None else tenant_specs(tenant):
        if isinstance(spec, HandoffSpec):
            mapping = spec.mapping_for(system)
            _add_paths(wanted, [*mapping.deal.values(), *mapping.customer.values(), *mapping.line.values()])
            wanted["deals"].update(mapping.writeback)
            if spec.review is not None:
                wanted["deals"].update(spec.review.annotate)
        elif isinstance(spec, CustomerSyncSpec):
            fields = spec.fields_for(system)
            _add_paths(wanted, fields.values())
            _add_paths(personal, [path for name, path in fields.items() if name in PERSONAL_CUSTOMER_FIELDS])
            wanted[_object(spec.source.object)].update(spec.writeback)
        elif isinstance(spec, LinkedUpdateSpec) and spec.target.system == "crm":
            wanted[_object(spec.target.object)].update(spec.properties)
    for name, properties in wanted.items():
        properties.discard("id")
        personal[name] = (personal[name] | {p for p in properties if p.lower() in PERSONAL_KEYS}) & properties
    return SnapshotScope(properties={name: sorted(props) for name, props in wanted.items()},
                         personal={**{name: sorted(props) for name, props in personal.items()},
                                   **ACCOUNTING_PERSONAL})


def _add_paths(into: dict[str, set[str]], paths) -> None:
    for path in paths:
        head, _, name = str(path).partition(".")
        if head in PATH_OBJECTS and name:
            into[PATH_OBJECTS[head]].add(name)


def _object(name: str) -> str:
    """A spec's object word (`companies`, `deals`) as a snapshot file's object type."""
    if name not in CRM_OBJECTS:
        raise ValueError(f"a snapshot covers CRM {', '.join(CRM_OBJECTS)}; a spec writes to {name!r}")
    return name
