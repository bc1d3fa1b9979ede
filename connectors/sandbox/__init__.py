"""Stateful local emulators of the HubSpot and Xero APIs ledgerlink uses.

They speak real HTTP on loopback so connectors, the demo, integration tests and benchmarks run
against the same request/response shapes, limits and failure modes as production — without a
network, accounts or rate-limit bills. Start both with `start_sandboxes()`.
"""

from connectors.sandbox.runner import Sandboxes, start_sandboxes

__all__ = ["Sandboxes", "start_sandboxes", "seed_books"]


def seed_books(*args, **kwargs):  # noqa: ANN002, ANN003 - thin re-export, imported lazily
    """See connectors.sandbox.seed.seed_books."""
    from connectors.sandbox.seed import seed_books as _seed_books

    return _seed_books(*args, **kwargs)
