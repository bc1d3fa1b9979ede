"""`GET /cdc?entities=...&changedSince=...`: QBO's change data capture.

Every entity of the listed types changed at or after `changedSince` (second precision, as QBO
writes times), in full, oldest change first; deleted ones as `{"status": "Deleted", "Id": ...}`;
a voided invoice is an ordinary change (amounts zero, PrivateNote "Voided"). QBO looks back at
most 30 days and answers at most 1,000 objects per entity: the emulator truncates there and says
nothing else — `maxResults` and `totalCount` give the number returned, so a client must treat a
full 1,000 as "there may be more" and read the rest another way (a query on
MetaData.LastUpdatedTime). TaxCode and TaxRate are not available through CDC, as in QBO.
"""

from __future__ import annotations

import time
from typing import Any

from connectors.sandbox.quickbooks_books import ENTITIES, QuickBooksBooks
from connectors.sandbox.quickbooks_http import QBOFault, parse_qbo_time, validation

LOOK_BACK_S = 30 * 86_400
MAX_PER_ENTITY = 1000
NOT_SUPPORTED = frozenset({"TaxCode", "TaxRate", "Preferences", "CompanyInfo"})


def cdc_error(detail: str) -> QBOFault:
    return validation("4000", "Invalid Request", detail)


def changes(books: QuickBooksBooks, entities: str | None, changed_since: str | None,
            now_ms: float | None = None) -> dict[str, Any]:
    """The IntuitResponse body (without `time`) of a CDC call; raises QBOFault for a bad request."""
    if not entities:
        raise validation("2020", "Required param missing, need to supply the required value for the API",
                         "Required parameter entities is missing in the request", "entities")
    if not changed_since:
        raise validation("2020", "Required param missing, need to supply the required value for the API",
                         "Required parameter changedSince is missing in the request", "changedSince")
    try:
        since_s = parse_qbo_time(changed_since) // 1000
    except ValueError:
        raise cdc_error(f"changedSince {changed_since!r} is not an ISO date-time") from None
    now_s = (now_ms if now_ms is not None else time.time() * 1000) // 1000
    if since_s < now_s - LOOK_BACK_S:
        raise cdc_error(f"Operation cdc with changedSince date {changed_since} which is older than "
                        f"30 days is not supported.")
    wanted = []
    for name in entities.split(","):
        entity = next((e for e in ENTITIES if e.lower() == name.strip().lower()), None)
        if entity is None or entity in NOT_SUPPORTED:
            raise cdc_error(f"Entity {name.strip()} is not supported by the cdc operation")
        if entity not in wanted:
            wanted.append(entity)
    answers = []
    for entity in wanted:
        rows = [(r["_updated_ms"], int(r["Id"]), False, r) for r in books.all(entity)
                if r["_updated_ms"] // 1000 >= since_s]
        rows += [(ms, int(i), True, i) for i, ms in books.deleted[entity].items() if ms // 1000 >= since_s]
        rows.sort(key=lambda row: (row[0], row[1]))
        rows = rows[:MAX_PER_ENTITY]
        if not rows:
            answers.append({})
            continue
        rendered = [books.tombstone(entity, row[3]) if row[2] else books.render(entity, row[3])
                    for row in rows]
        answers.append({entity: rendered, "startPosition": 1, "maxResults": len(rendered),
                        "totalCount": len(rendered)})
    return {"CDCResponse": [{"QueryResponse": answers}]}
