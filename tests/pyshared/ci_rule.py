# SPDX-License-Identifier: LGPL-2.1-or-later
"""The rule for Python tests that need what a user's machine may lack (root
for BPF, an installed tool): skip there with the reason, but fail under
CI=true, where a skipped test would pass for one that never ran. Every test
suite's PYTHONPATH holds this folder (tests/meson.build)."""
import os

import pytest


def skip_or_fail(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run this test")
    pytest.skip(reason)


def require_root():
    """Tracing needs root (CAP_BPF and CAP_PERFMON)."""
    if os.geteuid() != 0:
        skip_or_fail("needs root (CAP_BPF and CAP_PERFMON) to trace")


def leave_out_precise_timing(config, items):
    """Tests marked precise_timing bound times finer than an emulated
    kernel's timer jitter (a 1.4 ms sleep must wake within its log2
    bucket). The 6.1 guest leaves them out as it does the live tests
    tagged [precise-timing] (WAKETRACE_LIVE_TESTS, scripts/kernel-guest):
    deselected, not skipped, so they run everywhere else."""
    if "~[precise-timing]" not in os.environ.get("WAKETRACE_LIVE_TESTS", ""):
        return
    left_out = [item for item in items if item.get_closest_marker("precise_timing")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("precise_timing")]
