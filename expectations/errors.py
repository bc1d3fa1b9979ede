"""Typed errors of the gate.

A gate that cannot run must stop the handoff loudly: if a broken suite or a missing tenant
parameter quietly let rows through (or quietly failed them all), bad invoices would reach the
accounting system or good deals would pile up as exception items. Each error says which file,
expectation, column or parameter is wrong, in one readable line.
"""


class GateError(Exception):
    """Base class: the gate could not give a verdict on the batch."""


class SuiteError(GateError):
    """The expectations suite is unusable (file, YAML, unknown type, meta, columns)."""


class ParameterError(GateError):
    """A `$PARAMETER` the suite references was not supplied for this run."""


class BatchError(GateError):
    """The rows themselves cannot be gated (missing/duplicate keys, uncastable values)."""
