"""Let go of what Prefect keeps of a finished page.

Prefect keeps the return value of every task a flow run calls, for the whole run, in
`FlowRunContext.run_results` (it links a task's result to the tasks it is passed to). A handoff
calls its tasks once per page of records, so a long run held every page it had ever read: at
100,000 won deals the run grew by ~220 MB, and Python's garbage collector, walking that growing
heap, made each deal cost twice the CPU of a 10,000-deal run. Once a page's cursor has moved,
nothing of it is needed again: forget those results, and memory stays flat however long the run.
"""

from __future__ import annotations


def release_task_results() -> None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is not None:
        context.run_results.clear()
