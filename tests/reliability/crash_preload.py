"""Imported once by the fork server that child runs come from: everything a run imports (Prefect's
engines, the flows, the connectors, Alembic for the store's start-up check, the drivers) and
Great Expectations' context, built once — each child then costs its run, not a second of imports
and GX set-up. Nothing here opens a socket, a file handle a child could share, or a thread."""

import alembic.command  # noqa: F401
import alembic.config  # noqa: F401
import connectors.hubspot  # noqa: F401
import connectors.pipedrive  # noqa: F401
import connectors.quickbooks  # noqa: F401
import connectors.xero  # noqa: F401
import flows.contact_to_accounting_contact  # noqa: F401
import flows.linked_update  # noqa: F401
import flows.won_deal_to_invoice  # noqa: F401
import ledgerlink.recon_spec  # noqa: F401
import prefect.engine  # noqa: F401
import prefect.flow_engine  # noqa: F401
import prefect.task_engine  # noqa: F401
import psycopg  # noqa: F401
import sqlalchemy.dialects.postgresql  # noqa: F401
import sqlalchemy.dialects.sqlite  # noqa: F401
from expectations.gx_runtime import batch_definition

batch_definition()
