"""pytest plugin for scripts/test.sh: one line per test file as it starts and ends (with its time and
outcome counts), and a "still running" line every :data:`HEARTBEAT` seconds inside a slow test.

pytest's own ``-q`` progress is a row of dots; this says where the run is and how long each part
took, even in ``.ci/run``'s ``-q`` mode. Loaded with ``-p pytest_progress`` (test.sh puts this folder
on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter

import pytest

HEARTBEAT = float(os.environ.get("TEST_PROGRESS_HEARTBEAT", "30"))


class Progress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.t0 = time.monotonic()
        self.per_file: Counter[str] = Counter()
        self.file: str | None = None
        self.file_started = 0.0
        self.outcomes: Counter[str] = Counter()
        self.current: tuple[str, float] | None = None
        self.done = threading.Event()
        threading.Thread(target=self._heartbeat, name="test-progress", daemon=True).start()

    def say(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.t0)
        line = f"[{elapsed // 60:3d}:{elapsed % 60:02d}] {text}"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and threading.current_thread() is threading.main_thread():
            if getattr(reporter._tw, "width_of_current_line", 0):  # after pytest's dots
                reporter.write("\n")
            reporter.write_line(line)
        else:
            sys.__stderr__.write("\n" + line + "\n")
            sys.__stderr__.flush()

    def _heartbeat(self) -> None:
        while not self.done.wait(HEARTBEAT):
            current = self.current
            if current is not None and time.monotonic() - current[1] >= HEARTBEAT:
                self.say(f"  ... still running {current[0]} ({time.monotonic() - current[1]:.0f} s)")

    def _close_file(self) -> None:
        if self.file is None:
            return
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "nothing run"
        self.say(f"{self.file}: {counts} in {time.monotonic() - self.file_started:.1f} s")

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.per_file = Counter(item.nodeid.split("::")[0] for item in session.items)
        self.say(f"{len(session.items)} tests in {len(self.per_file)} files")

    @pytest.hookimpl
    def pytest_runtest_logstart(self, nodeid: str, location: tuple) -> None:
        path = nodeid.split("::")[0]
        if path != self.file:
            self._close_file()
            self.file, self.file_started, self.outcomes = path, time.monotonic(), Counter()
            self.say(f"{path} ({self.per_file.get(path, 0)} tests) ...")
        self.current = (nodeid, time.monotonic())

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[report.outcome] += 1
        elif report.when == "teardown" and report.outcome == "failed":
            self.outcomes["errors in teardown"] += 1

    @pytest.hookimpl
    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        self.current = None

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._close_file()
        self.done.set()


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Progress(config), "test-progress")
