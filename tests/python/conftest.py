# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures for the Python binding's tests. The module comes from the
build tree through PYTHONPATH, set by meson (tests/python/meson.build)."""
import pytest

from ci_rule import leave_out_precise_timing, require_root


def pytest_configure(config):
    config.addinivalue_line("markers", "precise_timing: bounds times finer than emulation's timer jitter")


def pytest_collection_modifyitems(config, items):
    leave_out_precise_timing(config, items)


@pytest.fixture
def privileged():
    require_root()
