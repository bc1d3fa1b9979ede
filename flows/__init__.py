"""Prefect flows: one per handoff. Orchestration only — the rules live in specs, suites and tasks."""
