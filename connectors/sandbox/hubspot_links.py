"""Associations between CRM records, held in both directions.

HubSpot reads associations from either side (deal → companies, company → deals) and reports a
"Primary" label on the side that has one primary company (a deal, a contact). Storing each link
under both directions makes every read a dict lookup; "primary" is stored once, from the side
that owns it, and derived for the reverse view.
"""

from __future__ import annotations

from typing import Any


class AssociationStore:
    """Associations in both directions: links[(from, to)][from_id] -> [to_id, …]."""

    def __init__(self) -> None:
        self.links: dict[tuple[str, str], dict[int, list[int]]] = {}
        self.primary: dict[tuple[str, str], dict[int, int]] = {}

    def add(self, from_type: str, from_id: int, to_type: str, to_id: int, primary: bool = False) -> None:
        for (a, a_id, b, b_id) in ((from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)):
            targets = self.links.setdefault((a, b), {}).setdefault(a_id, [])
            if b_id not in targets:
                targets.append(b_id)
        if primary:
            self._set_primary(from_type, from_id, to_type, to_id)

    def _set_primary(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """"Primary" belongs to the side that has one (a deal's or contact's primary company);
        the reverse view is derived in `targets`, so it is stored once, from that side."""
        if from_type == "companies":
            from_type, from_id, to_type, to_id = to_type, to_id, from_type, from_id
        self.primary.setdefault((from_type, to_type), {})[from_id] = to_id

    def add_raw(self, from_type: str, from_id: int, to_type: str, to_id: int, primary: bool = False) -> None:
        """Seeding fast path: no duplicate checks."""
        self.links.setdefault((from_type, to_type), {}).setdefault(from_id, []).append(to_id)
        self.links.setdefault((to_type, from_type), {}).setdefault(to_id, []).append(from_id)
        if primary:
            self._set_primary(from_type, from_id, to_type, to_id)

    def remove(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        for (a, a_id, b, b_id) in ((from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)):
            targets = self.links.get((a, b), {}).get(a_id, [])
            if b_id in targets:
                targets.remove(b_id)
            if self.primary.get((a, b), {}).get(a_id) == b_id:
                del self.primary[(a, b)][a_id]

    def targets(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, bool]]:
        """(to_id, is_primary) for every association from one record to a type."""
        ids = self.links.get((from_type, to_type), {}).get(from_id, [])
        primary_id = self.primary.get((from_type, to_type), {}).get(from_id)
        reverse_primary = self.primary.get((to_type, from_type), {})
        return [(t, t == primary_id or reverse_primary.get(t) == from_id) for t in ids]

    def to_dict(self) -> dict[str, Any]:
        return {"links": {f"{a}|{b}": {str(k): v for k, v in m.items() if v}
                          for (a, b), m in self.links.items()},
                "primary": {f"{a}|{b}": {str(k): v for k, v in m.items()}
                            for (a, b), m in self.primary.items()}}

    def load_dict(self, data: dict[str, Any]) -> None:
        self.links = {tuple(key.split("|")): {int(k): list(v) for k, v in m.items()}  # type: ignore[misc]
                      for key, m in data.get("links", {}).items()}
        self.primary = {tuple(key.split("|")): {int(k): int(v) for k, v in m.items()}  # type: ignore[misc]
                        for key, m in data.get("primary", {}).items()}
