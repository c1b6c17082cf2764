# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures for the Python binding's tests. The module comes from the
build tree through PYTHONPATH, set by meson (tests/python/meson.build)."""
import pytest

from ci_rule import require_root


@pytest.fixture
def privileged():
    require_root()
