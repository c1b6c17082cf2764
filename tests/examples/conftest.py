"""Fixtures for the examples' tests: meson passes the built programs' paths
through the environment."""
import os
import subprocess

import pytest


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
    """Tracing needs root. Elsewhere the test is skipped with the reason,
    except under CI=true, where a skipped BPF test would hide a failure."""
    if os.geteuid() != 0:
        reason = "tracing needs root (CAP_BPF and CAP_PERFMON)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + ", and CI must run these tests")
        pytest.skip(reason)


def run(args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def unprivileged(args):
    """args run as nobody without capabilities when we are root, else as is."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"] + args
