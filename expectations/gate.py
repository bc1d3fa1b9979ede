"""The data-quality gate: split a batch of rows into those that may move and those that may not.

A handoff must never stop on one bad record nor let one through: each row that breaks any
expectation becomes an exception item for its owner (with every reason at once, so it is fixed in
one go) and the rest continue. GX validates the whole batch as one DataFrame in one call, and its
COMPLETE result format names failing rows by the batch's key column.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from expectations.errors import BatchError, GateError, ParameterError, SuiteError
from expectations.frame import build_frame, columns_of_rows
from expectations.rules import Rule
from expectations.suite_loader import load_suite


@dataclass(frozen=True)
class GateFailure:
    """One expectation one row broke, in the words of whoever must fix it."""

    reason_code: str
    expectation: str
    column: str
    value: object
    message: str
    owner: str


@dataclass
class GateResult:
    """The verdict on one batch: passing keys in input order, every failure of each failing key."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, list[GateFailure]] = field(default_factory=dict)
    warnings: dict[str, list[GateFailure]] = field(default_factory=dict)  # of passed rows (meta.severity)
    expectations_run: int = 0
    seconds: float = 0.0


class Gate:
    """A loaded suite bound to the key column that identifies rows (e.g. `deal_id`)."""

    def __init__(self, suite_path: Path, key_column: str) -> None:
        self.key_column = key_column
        self._suite = load_suite(Path(suite_path))

    @property
    def parameters(self) -> tuple[str, ...]:
        """The `$PARAMETER` names every validate call must supply."""
        return self._suite.parameters

    def validate(
        self, rows: Sequence[Mapping[str, Any]], parameters: dict | None = None
    ) -> GateResult:
        """Validate all rows in one GX call; `parameters` fill the suite's `$PARAMETER`s."""
        started = time.perf_counter()
        if not rows:
            return GateResult(seconds=time.perf_counter() - started)
        columns = columns_of_rows(rows)
        self._check_columns(columns)
        by_key = self._index_by_key(rows)
        results = self._run_gx(rows, columns, self._parameters(parameters))
        failures: dict[Any, list[GateFailure]] = {}
        warnings: dict[Any, list[GateFailure]] = {}
        for result in results:
            rule = _rule_of(result)
            found = warnings if rule.severity == "warning" else failures
            for unexpected in result.result.get("unexpected_index_list") or ():
                row = rows[by_key[unexpected[self.key_column]]]
                found.setdefault(row[self.key_column], []).append(_failure(rule, row))
        keys = [row[self.key_column] for row in rows]
        return GateResult(
            passed=[key for key in keys if key not in failures],
            failed={key: failures[key] for key in keys if key in failures},
            warnings={key: warnings[key] for key in keys if key in warnings and key not in failures},
            expectations_run=len(results),
            seconds=time.perf_counter() - started,
        )

    def _check_columns(self, columns: list[str]) -> None:
        if self.key_column not in columns:
            raise BatchError(f"rows have no key column {self.key_column!r}")
        absent = [column for column in self._suite.columns if column not in columns]
        if absent:
            raise SuiteError(
                f"{self._suite.path}: column(s) {', '.join(absent)} named by the suite "
                f"are not in the batch (it has {', '.join(columns)})"
            )

    def _index_by_key(self, rows: Sequence[Mapping[str, Any]]) -> dict[Any, int]:
        by_key: dict[Any, int] = {}
        for position, row in enumerate(rows):
            key = row.get(self.key_column)
            if key is None or (isinstance(key, str) and not key.strip()):
                raise BatchError(f"row #{position + 1} has no {self.key_column}")
            if key in by_key:
                raise BatchError(f"{self.key_column} {key!r} appears more than once in the batch")
            by_key[key] = position
        return by_key

    def _parameters(self, supplied: dict | None) -> dict:
        supplied = dict(supplied or {})
        missing = [name for name in self._suite.parameters if name not in supplied]
        if missing:
            raise ParameterError(
                f"{self._suite.path}: parameter(s) {', '.join(missing)} not supplied; "
                f"pass them as validate(rows, parameters={{name: value}})"
            )
        return {name: _as_list_if_collection(value) for name, value in supplied.items()}

    def _run_gx(self, rows, columns, parameters) -> list:
        from great_expectations.exceptions import SuiteParameterError

        from expectations.gx_runtime import batch_definition

        frame = build_frame(rows, columns, {**self._suite.column_types, self.key_column: "text"})
        batch = batch_definition().get_batch(batch_parameters={"dataframe": frame})
        try:
            validation = batch.validate(
                self._suite.suite,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [self.key_column],
                },
                expectation_parameters=parameters,
            )
        except SuiteParameterError as exc:
            raise ParameterError(f"{self._suite.path}: {exc}") from exc
        for result in validation.results:
            _raise_if_crashed(self._suite.path, result)
        return validation.results


def _rule_of(result) -> Rule:
    """The rule behind a GX result, read back from the configuration GX ran (order may differ)."""
    config = result.expectation_config
    return Rule.from_expectation(config.type, config.kwargs, config.meta)


def _as_list_if_collection(value: Any) -> Any:
    """Allowed values are naturally a set; GX serialises parameters and wants a list."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return list(value) if isinstance(value, tuple) else value


def _failure(rule: Rule, row: Mapping[str, Any]) -> GateFailure:
    return GateFailure(
        reason_code=rule.reason_code,
        expectation=rule.expectation,
        column=rule.column,
        value=rule.value_of(row),
        message=rule.describe(row),
        owner=rule.owner,
    )


def _raise_if_crashed(path: Path, result) -> None:
    """GX records an expectation that raised as merely 'unsuccessful', with no failing rows.

    Left alone, every row would pass it. Its exception info is either flat or keyed by metric.
    """
    info = result.exception_info or {}
    if "raised_exception" in info:
        infos = [info]
    else:
        infos = [entry for entry in info.values() if isinstance(entry, dict)]
    for entry in infos:
        if entry.get("raised_exception"):
            rule = _rule_of(result)
            raise GateError(
                f"{path}: {rule.expectation} on {rule.column} ({rule.reason_code}) could not run: "
                f"{entry.get('exception_message')}"
            )
