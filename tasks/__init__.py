"""Prefect tasks: each step of a handoff works on a whole batch (page) of records, never one record."""
