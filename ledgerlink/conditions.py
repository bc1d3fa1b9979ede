"""Safe evaluation of the small boolean conditions handoff specs declare (no `eval`).

A spec says e.g. `status == "won" and currency in ["ZAR", "USD"]`. The text is parsed with `ast`
and only comparisons, boolean operators, names, constants and lists are accepted, so a spec file
can never run code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, field_validator

_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a is not None and b is not None and a < b,
    ast.LtE: lambda a, b: a is not None and b is not None and a <= b,
    ast.Gt: lambda a, b: a is not None and b is not None and a > b,
    ast.GtE: lambda a, b: a is not None and b is not None and a >= b,
    ast.In: lambda a, b: b is not None and a in b,
    ast.NotIn: lambda a, b: b is None or a not in b,
}


class ConditionError(ValueError):
    """A condition that is not valid in the spec language; the message names what is wrong."""


@dataclass(frozen=True)
class Condition:
    text: str
    tree: ast.Expression

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        return bool(_eval(self.tree.body, values, self.text))

    @property
    def names(self) -> set[str]:
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)} - {"null", "true", "false"}


class ConditionalSpec(BaseModel):
    """A spec entry with a `when` condition (derive rules, triggers, review rules): checked when the
    spec loads, parsed (never eval'd) to run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str) -> str:
        return check_condition(value)

    @property
    def condition(self) -> "Condition":
        return parse_condition(self.when)


def check_condition(text: str) -> str:
    """For spec validators: the text unchanged if it parses, else ValueError naming the problem."""
    try:
        parse_condition(text)
    except ConditionError as err:
        raise ValueError(str(err)) from None
    return text


@lru_cache(maxsize=1024)
def parse_condition(text: str) -> Condition:
    """Parsed once per text (conditions are evaluated per record, thousands of times a run);
    a Condition holds only its text and tree, never a record's values."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ConditionError(f"condition {text!r} is not valid: {err.msg}") from None
    for node in ast.walk(tree):
        allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare,
                   ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, *_COMPARE)
        if not isinstance(node, allowed):
            raise ConditionError(f"condition {text!r} uses {type(node).__name__}, which specs may not use")
    return Condition(text, tree)


def _eval(node: ast.AST, values: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        results = (_eval(value, values, text) for value in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, values, text)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values, text)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, values, text)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        if node.id in ("null", "None"):
            return None
        if node.id in ("true", "false"):
            return node.id == "true"
        if node.id not in values:
            raise ConditionError(f"condition {text!r} names unknown field {node.id!r}")
        return values[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(element, values, text) for element in node.elts]
    raise ConditionError(f"condition {text!r}: unsupported expression")  # pragma: no cover
