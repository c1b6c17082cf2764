# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures for the examples' tests: meson passes the built programs' paths
through the environment (tests/install passes those it built against the
installed library)."""
import os
import pathlib
import subprocess
import time

import pytest

from ci_rule import require_root


@pytest.fixture(scope="session")
def profile_pid():
    return os.environ["PROFILE_PID"]


@pytest.fixture(scope="session")
def handoff_bench():
    return os.environ["HANDOFF_BENCH"]


@pytest.fixture(scope="session")
def who_woke():
    return os.environ["WHO_WOKE"]


@pytest.fixture(scope="session")
def demo():
    return os.environ["WAKETRACE_DEMO"]


@pytest.fixture
def privileged():
    require_root()


def run(args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def unprivileged(args):
    """args run as nobody without capabilities when we are root, else as is."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"] + args


# The demo workload (examples/demo): its pong thread reads a pipe that its
# ping thread writes after sleeping DEMO_SLEEP_MS, so over a traced second
# pong is blocked almost all the time, woken by ping in the pipe code, and
# ping is woken by the timer interrupt.
DEMO_ROUNDS = 400  # 4 s of rounds: the workload outlives the one traced second
DEMO_SLEEP_MS = 10


def thread_ids(pid):
    """{comm: tid} of the process's threads."""
    tids = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            tids[(task / "comm").read_text().strip()] = int(task.name)
        except FileNotFoundError:  # the thread just exited
            pass
    return tids


@pytest.fixture
def pingpong(demo):
    """The demo, running, once both its threads have their names."""
    workload = subprocess.Popen([demo, str(DEMO_ROUNDS), str(DEMO_SLEEP_MS)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not {"demo-ping", "demo-pong"} <= thread_ids(workload.pid).keys():
        assert time.monotonic() < deadline, "the demo's threads never got their names"
        time.sleep(0.01)
    yield workload
    workload.kill()
    workload.wait()


def parse_folded(line):
    """(target comm and frames root first, waker frames then waker name, µs)."""
    stack, value = line.rsplit(" ", 1)
    target, waker = stack.split(";--;", 1)
    return target.split(";"), waker.split(";"), int(value)
