"""Which version of its configuration a handoff run uses, as content hashes.

A run's behaviour is set by declarations, not code: its handoff spec (with the tenant's
overrides), the expectations suites that gate it and the mappings of the tenant's CRM. Each of
those *parts* gets a sha256 over a canonical serialisation, and the run one combined short id
(12 hex) over all its parts. Runs, audit events and write intents record that id, so "which
configuration made this invoice?" has an answer, and `config check` can refuse a version nobody
has tried yet.

What counts as a change: the hash is taken over the *parsed* YAML (canonical JSON: keys sorted,
no whitespace), so comments, blank lines, indentation, quoting style and key order are not
changes — they cannot change what a run does. Any value, list order or type (`"1"` vs `1`) is.

What a part covers:
- `spec <handoff>`: the spec as it takes effect for the tenant (overrides merged), WITHOUT its
  `crm:` section — that is versioned per CRM, so editing the Pipedrive mapping does not make a
  HubSpot tenant's spec "changed".
- `mapping <handoff> crm.<system>`: that spec's section for the tenant's CRM.
- `suite <file>`: the expectations suite the spec names.
A run uses more than its own spec: a create-invoices run also makes customers through
`contact-to-accounting-contact` (tasks/connect.py loads it with the tenant's overrides; its suite
gates those customers), and the reconciliation reads the specs it compares (`invoices_from`,
`payments_from`; flows/reconciliation.py loads them without overrides, and gates nothing). Their
parts are in the run's version too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ledgerlink.settings import project_root
from ledgerlink.spec import SpecError, SpecSource, read_spec
from ledgerlink.tenants import Tenant
from ledgerlink.yaml_lines import SAFE_DUMPER, load_yaml

KINDS = ("spec", "suite", "mapping")
CUSTOMER_HANDOFF = "contact-to-accounting-contact"
SHORT = 12  # hex digits of the combined id (48 bits: collisions among one tenant's versions are not a concern)


def _typed(value: Any) -> str:
    """Text for a YAML value JSON has no type for (a date, an int mapping key): tagged with its type,
    so `1:` and `"1":`, or a date and the same date as text, stay different."""
    return value if isinstance(value, str) else f"!{type(value).__name__} {value}"


def _plain(data: Any) -> Any:
    """Parsed YAML with every mapping key as (typed) text and keys in order, ready to serialise."""
    if isinstance(data, dict):
        typed = sorted(((_typed(key), value) for key, value in data.items()), key=lambda item: item[0])
        return {key: _plain(value) for key, value in typed}
    if isinstance(data, (list, tuple)):
        return [_plain(item) for item in data]
    return data


def canonical(data: Any) -> str:
    """The serialisation that is hashed: JSON, keys sorted, no insignificant whitespace."""
    return json.dumps(_plain(data), separators=(",", ":"), ensure_ascii=False, default=_typed)


def content_hash(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ConfigPart:
    """One versioned piece of configuration."""

    kind: str  # spec | suite | mapping
    name: str  # e.g. won-deal-to-invoice · won_deal_to_invoice.yaml · won-deal-to-invoice crm.hubspot
    hash: str  # sha256 hex of `canonical(data)`
    content: str  # what was hashed, as YAML with sorted keys: readable, and diffable against another version
    source: str  # the file(s) it comes from, for messages that say what to look at

    @classmethod
    def of(cls, kind: str, name: str, data: Any, source: str) -> "ConfigPart":
        text = yaml.dump(_plain(data), Dumper=SAFE_DUMPER, sort_keys=False, allow_unicode=True,
                         default_flow_style=False)
        return cls(kind, name, content_hash(data), text, source)


@dataclass(frozen=True)
class ConfigVersions:
    """The set of part versions one tenant's handoff uses, and its combined id."""

    tenant: str
    handoff: str  # the handoff spec's name
    parts: tuple[ConfigPart, ...]

    def as_dict(self) -> dict[str, dict[str, str]]:
        """{kind: {name: sha256}} for every kind, empty when the handoff has no part of that kind."""
        return {kind: {p.name: p.hash for p in self.parts if p.kind == kind} for kind in KINDS}

    @property
    def id(self) -> str:
        return content_hash(self.as_dict())[:SHORT]

    def short(self) -> dict[str, dict[str, str]]:
        return {kind: {name: digest[:SHORT] for name, digest in names.items()}
                for kind, names in self.as_dict().items()}


class ConfigNotChecked(SpecError):
    """The tenant wants checked configuration only (`require_checked_config`) and this is not."""


def require_checked(tenant: Tenant, versions: ConfigVersions, history) -> None:
    """Refuse a run whose combined version `config check` has not passed, naming the parts that
    changed (their files) and the command that checks them. `history`: the store's config_history."""
    if not tenant.require_checked_config or history.is_checked(versions):
        return
    parts = history.unchecked_parts(versions)
    if len(parts) == len(versions.parts):
        what = "none of its spec, suite and mapping versions has been checked yet"
    elif parts:
        what = "not checked: " + "; ".join(f"{p.kind} {p.name} ({p.source})" for p in parts)
    else:
        what = "each part was checked, but never in this combination"
    raise ConfigNotChecked(
        f"{versions.handoff} for tenant {tenant.name} refused: configuration version {versions.id} has not passed "
        f"config check ({what}); check it with: ledgerlink config check --tenant {tenant.name} "
        f"--handoff {versions.handoff}")


def versions_for(tenant: Tenant, handoff: str) -> ConfigVersions:
    """The configuration versions `handoff` uses for `tenant` right now (read from the files)."""
    own = read_spec(handoff, tenant.spec_overrides(handoff))
    parts: dict[tuple[str, str], ConfigPart] = {}
    for source, gated in [(own, True), *_also_used(tenant, own)]:
        for part in _parts(source, tenant, gated):
            parts.setdefault((part.kind, part.name), part)
    ordered = sorted(parts.values(), key=lambda p: (KINDS.index(p.kind), p.name))
    return ConfigVersions(tenant.name, _name(own), tuple(ordered))


def _also_used(tenant: Tenant, own: SpecSource) -> list[tuple[SpecSource, bool]]:
    """The other specs a run of `own` reads, loaded the way the run loads them, and whether the run
    also gates records with their suites."""
    kind = own.data.get("kind", "create-invoices")
    if kind == "create-invoices":  # customers are made through the contact handoff, its gate included
        return [(read_spec(CUSTOMER_HANDOFF, tenant.spec_overrides(CUSTOMER_HANDOFF)), True)]
    if kind == "reconcile":  # compares what those specs declare; gates nothing
        from ledgerlink.recon_spec import ReconciliationSpec

        fields = ReconciliationSpec.model_fields
        return [(read_spec(own.data.get(key, fields[key].default)), False) for key in ("invoices_from", "payments_from")]
    return []


def _parts(source: SpecSource, tenant: Tenant, gated: bool) -> list[ConfigPart]:
    name, data, system, path = _name(source), source.data, tenant.crm.system, shown(source.path)
    overrides = source.overrides or {}
    parts = [ConfigPart.of("spec", name, {k: v for k, v in data.items() if k != "crm"},
                           path + _overridden_in(source, any(key != "crm" for key in overrides)))]
    crm = data.get("crm")
    if isinstance(crm, dict) and system in crm:
        touched = system in (overrides.get("crm") or {})
        parts.append(ConfigPart.of("mapping", f"{name} crm.{system}", crm[system],
                                   f"{path} crm.{system}{_overridden_in(source, touched)}"))
    if gated and data.get("expectations"):
        suite = project_root() / "expectations" / str(data["expectations"])
        if not suite.is_file():
            raise SpecError(f"{source.path}: expectations: no suite file {suite}")
        parts.append(ConfigPart.of("suite", suite.name, load_yaml(suite.read_text(encoding="utf-8")),
                                   shown(suite)))
    return parts


def _name(source: SpecSource) -> str:
    return str(source.data.get("name") or source.path.stem.replace("_", "-"))


def _overridden_in(source: SpecSource, touched: bool) -> str:
    """Where a part's tenant overrides are, for messages: only when they touch the part."""
    overrides = source.overrides
    if not (overrides and touched):
        return ""
    tenants_file = getattr(overrides, "source", None)
    whose = f"tenant {overrides.tenant}'s overrides" if getattr(overrides, "tenant", None) else "tenant overrides"
    return f" with {whose}" + (f" in {tenants_file}" if tenants_file else "")


def shown(path: Path) -> str:
    """A path as a person looks for it: relative to the project when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return str(path)
