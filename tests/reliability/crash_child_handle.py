"""The parent's side of a child run: start it, read what it says, answer it, see how it ended.

Every child waits for an answer at fixed points (ready, start of each handoff, after each
handoff), which is what lets the parent arm a kill before the first call, pay between handoffs,
or release two children into the same handoff at the same moment.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import crash_child

TIMEOUT_S = 240


class ChildRun:
    def __init__(self, world, context, name: str, handoffs: tuple[str, ...] = crash_child.HANDOFFS,
                 kill_at_commit: tuple | None = None):
        self.log: Path = world.home / f"{name}.log"
        self.conn, child_end = context.Pipe()
        self._child_end = child_end
        self.process = context.Process(target=crash_child.run, daemon=True, args=(
            world.child_env(), world.tenant, child_end, str(self.log), handoffs, kill_at_commit))
        self.pid: int | None = None
        self.counts: dict[str, dict] = {}  # handoff -> its run's counts
        self.commits: int | None = None  # store transactions that wrote (a finished run says)
        self.started = 0.0
        self.seconds = 0.0
        self.exit_code: int | None = None
        self.timed_out = False  # killed by us after TIMEOUT_S: a hang, not a planned kill

    def start(self) -> "ChildRun":
        self.started = time.monotonic()
        self.process.start()
        self._child_end.close()
        return self

    def next_message(self, timeout: float = 0.05) -> tuple | None:
        """The child's next message, ("exit",) once it is gone, None if it has nothing to say yet."""
        if time.monotonic() - self.started > TIMEOUT_S:
            self.timed_out = True
            self.process.kill()
            return ("exit",)
        if not self.conn.poll(timeout):
            return None if self.process.is_alive() or self.conn.poll(0) else ("exit",)
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            return ("exit",)
        if message[0] == "ready":
            self.pid = message[1]
        elif message[0] == "after":
            self.counts[message[1]] = message[2]
        elif message[0] == "done":
            self.commits = message[1]
        return message

    def reply(self) -> None:
        self.conn.send("go")

    def finish(self) -> int | None:
        self.process.join(30)
        self.conn.close()
        self.exit_code, self.seconds = self.process.exitcode, round(time.monotonic() - self.started, 2)
        return self.exit_code

    @property
    def killed(self) -> bool:
        return self.exit_code == -signal.SIGKILL and not self.timed_out

    @property
    def completed(self) -> bool:
        return self.exit_code == 0

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"
