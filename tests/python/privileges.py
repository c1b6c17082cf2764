"""The rule for tests that load BPF."""
import os

import pytest


def require_privileges():
    """Tracing needs root: skip with a message elsewhere, but fail under CI,
    where a skipped BPF test would pass for one that never ran."""
    if os.geteuid() != 0:
        message = "needs root (CAP_BPF and CAP_PERFMON) to trace"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": CI must run the BPF tests")
        pytest.skip(message)
