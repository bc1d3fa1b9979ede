"""Data-quality gates: one Great Expectations suite (YAML) per handoff, and the Gate applying it.

Importing this package is cheap on purpose: Great Expectations is imported only when a Gate is
first built, so the CLI, the store and the tests that merely name these types stay fast.
"""

from expectations.errors import BatchError, GateError, ParameterError, SuiteError
from expectations.gate import Gate, GateFailure, GateResult

__all__ = [
    "BatchError",
    "Gate",
    "GateError",
    "GateFailure",
    "GateResult",
    "ParameterError",
    "SuiteError",
]
