"""The routes that move money besides payments: credit notes, overpayments and allocations.

Same plumbing as every other Xero route (xero_app.XeroRoutes factories over the shared gateway):
writes are counted as writes, rate-limited, open to faults and honour Idempotency-Key; lists take
where / order / page / pageSize / If-Modified-Since and are ordered by UpdatedDateUTC; a single
record is written in full, a list without `page` in summary (no LineItems), as Xero does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from starlette.routing import Route

from connectors.sandbox.xero_batches import write_allocations, write_bank_transactions, write_credit_notes
from connectors.sandbox.xero_books import XeroBooks

if TYPE_CHECKING:
    from connectors.sandbox.xero_app import XeroRoutes

API = "/api.xro/2.0"


def _credit_note(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return books.render_credit_note(row, summary=summary)


def _overpayment(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return books.render_overpayment(row, summary=summary)


def _bank_transaction(books: XeroBooks, row: dict[str, Any], summary: bool) -> dict[str, Any]:
    return books.render_bank_transaction(row, summary=summary)


def money_routes(x: XeroRoutes, r: Callable[..., Route]) -> list[Route]:
    notes = ("CreditNotes", write_credit_notes)
    return [
        r("GET", f"{API}/CreditNotes", x._lister("CreditNotes", "credit_notes", _credit_note)),
        r("PUT", f"{API}/CreditNotes", x._writer(*notes, match_number=False, unitdp=2), write=True),
        r("POST", f"{API}/CreditNotes", x._writer(*notes, match_number=True, unitdp=2), write=True),
        r("GET", f"{API}/CreditNotes/{{CreditNoteID}}",
          x._single("CreditNotes", "CreditNoteID", lambda b, k: b.credit_note(k), _credit_note)),
        r("POST", f"{API}/CreditNotes/{{CreditNoteID}}",
          x._writer(*notes, match_number=True, unitdp=2, forced_id="CreditNoteID"), write=True),
        r("PUT", f"{API}/CreditNotes/{{CreditNoteID}}/Allocations",
          x._writer("Allocations", write_allocations, source="credit_notes", forced_id="CreditNoteID"),
          write=True),
        r("GET", f"{API}/BankTransactions",
          x._lister("BankTransactions", "bank_transactions", _bank_transaction)),
        r("PUT", f"{API}/BankTransactions",
          x._writer("BankTransactions", write_bank_transactions, unitdp=2), write=True),
        r("GET", f"{API}/BankTransactions/{{BankTransactionID}}",
          x._single("BankTransactions", "BankTransactionID", lambda b, k: b.bank_transaction(k),
                    _bank_transaction)),
        r("GET", f"{API}/Overpayments", x._lister("Overpayments", "overpayments", _overpayment)),
        r("GET", f"{API}/Overpayments/{{OverpaymentID}}",
          x._single("Overpayments", "OverpaymentID", lambda b, k: b.overpayment(k), _overpayment)),
        r("PUT", f"{API}/Overpayments/{{OverpaymentID}}/Allocations",
          x._writer("Allocations", write_allocations, source="overpayments", forced_id="OverpaymentID"),
          write=True),
    ]
