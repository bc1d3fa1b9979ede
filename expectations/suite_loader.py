"""Load a handoff's expectations suite from YAML, refusing anything GX would silently ignore.

GX 1.x builds an `ExpectationSuite` from plain data but only *logs* an expectation it cannot build
(an unknown or misspelt type, invalid kwargs) and drops it: the gate would then pass rows that the
suite's author meant to stop. So the loader counts what GX kept against what the YAML declared and
names every dropped expectation, and checks the gate's own needs (meta, row-level expectations,
column types) before the first batch arrives.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from expectations.errors import SuiteError
from expectations.frame import COLUMN_TYPES
from expectations.gx_runtime import great_expectations
from expectations.rules import Rule
from ledgerlink.yaml_lines import load_yaml

_GX_SUITE_LOGGER = "great_expectations.core.expectation_suite"


@dataclass(frozen=True)
class LoadedSuite:
    """A GX suite plus what the gate needs to read its results."""

    path: Path
    suite: Any  # great_expectations.ExpectationSuite (not imported at module level on purpose)
    rules: tuple[Rule, ...]
    column_types: dict[str, str]
    parameters: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column some expectation reads, in suite order."""
        return tuple(dict.fromkeys(column for rule in self.rules for column in rule.columns))


def load_suite(path: Path) -> LoadedSuite:
    """Read, check and build the suite at `path`; any problem raises SuiteError naming the file."""
    path = Path(path)
    data = _read_yaml(path)
    declared = data.get("expectations")
    if not isinstance(declared, list) or not all(isinstance(entry, dict) for entry in declared):
        raise SuiteError(f"{path}: 'expectations' must be a list of {{type, kwargs, meta}} maps")
    rules = tuple(_rule(path, index, entry) for index, entry in enumerate(declared))
    suite = _build_gx_suite(path, data)
    _require_row_level(path, suite)
    return LoadedSuite(
        path=path,
        suite=suite,
        rules=rules,
        column_types=_column_types(path, data),
        parameters=tuple(suite.suite_parameter_options),
    )


def _read_yaml(path: Path) -> dict:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"expectations suite not found: {path}") from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: expected a mapping with 'name' and 'expectations' at the top")
    return data


def _rule(path: Path, index: int, entry: dict) -> Rule:
    kind = entry.get("type")
    if not isinstance(kind, str) or not kind:
        raise SuiteError(f"{path}: expectation #{index + 1} has no 'type'")
    try:
        return Rule.from_expectation(kind, entry.get("kwargs") or {}, entry.get("meta"))
    except ValueError as exc:
        raise SuiteError(f"{path}: expectation #{index + 1}: {exc}") from exc


def _build_gx_suite(path: Path, data: dict):
    gx = great_expectations()
    declared = data["expectations"]
    try:
        with _quiet(_GX_SUITE_LOGGER):  # GX logs a traceback per dropped expectation
            suite = gx.ExpectationSuite(**data)
    except (TypeError, ValueError) as exc:  # pydantic kwargs errors, unknown keys, missing name
        problems = _unbuildable(declared) or [str(exc)]
        raise SuiteError(f"{path}: not a valid GX suite: {'; '.join(problems)}") from exc
    if len(suite.expectations) != len(declared):
        problems = _unbuildable(declared) or ["GX gave no reason"]
        raise SuiteError(
            f"{path}: GX loaded only {len(suite.expectations)} of {len(declared)} expectations: "
            + "; ".join(problems)
        )
    return suite


def _unbuildable(declared: list[dict]) -> list[str]:
    """Build each entry alone to name the ones GX refused, with GX's own reason."""
    from great_expectations.exceptions import GreatExpectationsError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    problems = []
    for index, entry in enumerate(declared):
        try:
            ExpectationConfiguration(**entry).to_domain_obj()
        except (GreatExpectationsError, TypeError, ValueError) as exc:
            reason = " ".join(str(getattr(exc, "message", exc)).split())
            problems.append(f"expectation #{index + 1} type {entry.get('type')!r}: {reason}")
    return problems


def _require_row_level(path: Path, suite) -> None:
    """Aggregate expectations (a column mean, a row count) cannot say which row is bad."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    row_level = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    for expectation in suite.expectations:
        if not isinstance(expectation, row_level):
            raise SuiteError(
                f"{path}: {expectation.expectation_type} is not a row-level (map) expectation; "
                "the gate can only use expectations that name the failing rows"
            )


def _column_types(path: Path, data: dict) -> dict[str, str]:
    declared = (data.get("meta") or {}).get("column_types") or {}
    bad = {column: kind for column, kind in declared.items() if kind not in COLUMN_TYPES}
    if bad:
        raise SuiteError(f"{path}: meta.column_types {bad} must each be one of {COLUMN_TYPES}")
    return dict(declared)


@contextmanager
def _quiet(logger_name: str):
    """Mute one GX logger while the loader turns its complaint into a SuiteError."""
    logger = logging.getLogger(logger_name)
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled
