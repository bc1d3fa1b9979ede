"""ledgerlink core: canonical model, handoff specs, the store and the CLI.

The core imports nothing above it (no Prefect, no HTTP), so it stays cheap to import and easy to test.
"""

__version__ = "0.1.0"
