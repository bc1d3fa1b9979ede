"""Deterministic fault injection: the failures a sync must survive, on demand.

Real vendors fail in a handful of ways that matter to an integration: an error status before
anything happened (5xx), throttling (429, with or without Retry-After), a timeout-like delay, a
body that cannot be parsed (or is not JSON at all: a proxy's or maintenance page's HTML), and the nasty one — the write was committed but the client never
learnt it (`commit_then_fail`). Rules fire in a fixed, countable pattern (`skip` the first M
matching calls, then fire `times` times), or from a seeded random stream, so a test that
provokes a failure is reproducible to the call.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("status", "rate_limit", "commit_then_fail", "slow", "malformed_json", "wrong_content_type")


class FaultRuleError(ValueError):
    """A rule posted to /_sandbox/faults that cannot be understood."""


@dataclass
class FaultRule:
    """One deterministic rule. `path` is a prefix of the request path; `method` None = any."""

    kind: str
    path: str = "/"
    method: str | None = None
    status: int | None = None
    retry_after: str | None = None
    times: int | None = 1
    skip: int = 0
    delay_s: float = 0.0
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RandomFaults:
    """A seeded stream: each matching call fails with probability `rate`, kind drawn from `kinds`."""

    seed: int
    rate: float
    kinds: list[str]
    path: str = "/"
    method: str | None = None
    retry_after: str | None = None
    delay_s: float = 1.0
    times: int | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def describe(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        return {"random": data}


@dataclass
class Fault:
    """What the request pipeline must do to this call."""

    kind: str
    status: int
    retry_after: str | None
    delay_s: float


def _default_status(kind: str) -> int:
    return {"rate_limit": 429, "commit_then_fail": 500, "malformed_json": 200,
            "wrong_content_type": 200}.get(kind, 503)


def _parse_kind(token: str) -> tuple[str, int | None]:
    """'status:503' -> ('status', 503); 'rate_limit' -> ('rate_limit', None)."""
    name, _, status = token.partition(":")
    if name not in KINDS:
        raise FaultRuleError(f"unknown fault kind {name!r}; use one of {', '.join(KINDS)}")
    return name, int(status) if status else None


class FaultInjector:
    """Holds the active rules of one emulator; thread-safe, answered in rule order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule | RandomFaults] = []

    def add(self, spec: dict[str, Any] | list[dict[str, Any]]) -> list[FaultRule | RandomFaults]:
        """Add rules from their JSON form (one rule, a list, or {"rules": [...]})."""
        if isinstance(spec, dict) and "rules" in spec:
            spec = spec["rules"]
        specs = spec if isinstance(spec, list) else [spec]
        built = [self._build(item) for item in specs]
        with self._lock:
            self._rules.extend(built)
        return built

    def add_rule(self, kind: str, path: str = "/", method: str | None = None, **options: Any) -> FaultRule:
        """Python-side shortcut: `faults.add_rule("status", "/api.xro/2.0/Invoices", "PUT", status=503)`."""
        rule = self._build({"kind": kind, "path": path, "method": method, **options})
        with self._lock:
            self._rules.append(rule)
        return rule  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault to apply to this call, if any rule fires; counts are updated here."""
        with self._lock:
            for rule in self._rules:
                if isinstance(rule, RandomFaults):
                    fault = self._pick_random(rule, method, path)
                    if fault:
                        return fault
                    continue
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.fired += 1
                return Fault(rule.kind, rule.status or _default_status(rule.kind),
                             rule.retry_after, rule.delay_s)
        return None

    @staticmethod
    def _pick_random(rule: RandomFaults, method: str, path: str) -> Fault | None:
        if (rule.method and rule.method != method) or not path.startswith(rule.path):
            return None
        if rule.times is not None and rule.fired >= rule.times:
            return None
        roll = rule._rng.random()
        choice = rule._rng.choice(rule.kinds)  # drawn every call so the stream stays aligned
        if roll >= rule.rate:
            return None
        rule.fired += 1
        kind, status = _parse_kind(choice)
        return Fault(kind, status or _default_status(kind), rule.retry_after, rule.delay_s)

    @staticmethod
    def _build(spec: dict[str, Any]) -> FaultRule | RandomFaults:
        if not isinstance(spec, dict):
            raise FaultRuleError("a fault rule must be a JSON object")
        if "random" in spec:
            options = dict(spec["random"])
            kinds = options.get("kinds") or ["status:503"]
            for token in kinds:
                _parse_kind(token)
            retry_after = options.get("retry_after")
            return RandomFaults(
                seed=int(options.get("seed", 0)), rate=float(options.get("rate", 0.1)),
                kinds=list(kinds), path=options.get("path", "/"),
                method=(options.get("method") or None) and str(options["method"]).upper(),
                retry_after=None if retry_after is None else str(retry_after),
                delay_s=float(options.get("delay_s", 1.0)),
                times=None if options.get("times") is None else int(options["times"]))
        kind = spec.get("kind", "status")
        if kind not in KINDS:
            raise FaultRuleError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        method = spec.get("method")
        retry_after = spec.get("retry_after")
        times = spec.get("times", 1)
        return FaultRule(
            kind=kind, path=spec.get("path") or "/",
            method=str(method).upper() if method else None,
            status=int(spec["status"]) if spec.get("status") is not None else None,
            retry_after=None if retry_after is None else str(retry_after),
            times=None if times is None else int(times), skip=int(spec.get("skip", 0)),
            delay_s=float(spec.get("delay_s", 0.0)))
