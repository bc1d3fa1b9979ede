"""How many generated inputs each bad-input property was actually run on.

Hypothesis decides how many examples a test gets (it stops early when a strategy has few distinct
values, and adds replays while shrinking), so the number worth reporting is the number of times a
property body ran — counted here and printed at the end of the session by the folder's conftest.
"""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()


def tried(property_name: str, count: int = 1) -> None:
    """Note that `count` generated inputs went through `property_name` (a page counts its records)."""
    TRIED[property_name] += count
