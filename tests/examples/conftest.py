"""Fixtures for the examples' tests: meson passes the built programs' paths
through the environment."""
import os
import subprocess

import pytest

from ci_rule import require_root


@pytest.fixture(scope="session")
def profile_pid():
    return os.environ["PROFILE_PID"]


@pytest.fixture(scope="session")
def handoff_bench():
    return os.environ["HANDOFF_BENCH"]


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
