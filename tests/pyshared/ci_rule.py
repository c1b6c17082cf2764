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
