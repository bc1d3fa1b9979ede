"""The one Great Expectations context of this process, created on first use.

Importing GX costs seconds and phones home by default, so it is imported here only when a Gate
first needs it, with analytics off and progress bars silenced (a gate validating thousands of
batches in a Prefect worker must not spam logs with tqdm bars). The ephemeral context keeps nothing
on disk: suites live in the repo as YAML, and results are turned into exception items by the caller.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

_DATASOURCE = "ledgerlink_gate"
_ASSET = "rows"
_BATCH_DEFINITION = "whole_batch"

_lock = threading.Lock()
_runtime: dict[str, Any] = {}


def great_expectations():
    """The GX module, imported with analytics disabled (the env var is read at import time)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


def batch_definition():
    """The shared whole-DataFrame batch definition every Gate validates through."""
    with _lock:
        if "batch_definition" not in _runtime:
            _runtime["batch_definition"] = _build_batch_definition()
        return _runtime["batch_definition"]


def _build_batch_definition():
    gx = great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX announces the throw-away docs folder of every ephemeral context at INFO, in the middle of
    # the CLI's reports; nothing in it is for the person running ledgerlink.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas(_DATASOURCE).add_dataframe_asset(_ASSET)
    return asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
