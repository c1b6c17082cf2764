# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures for the waketrace command's tests: paths of the built
tool and demo come from meson through the environment."""
import os
import re
import subprocess

import pytest

from ci_rule import require_root


@pytest.fixture(scope="session")
def waketrace():
    return os.environ["WAKETRACE"]


@pytest.fixture(scope="session")
def demo():
    return os.environ["WAKETRACE_DEMO"]


@pytest.fixture(scope="session")
def deep_blocker():
    """Built without frame pointers; waits for a byte on stdin, then
    main -> level_a -> level_b -> level_c blocks in read() ROUNDS times."""
    return os.environ["DEEP_BLOCKER"]


@pytest.fixture(scope="session")
def relay():
    """wt-relay (tests/live/relay.hpp): -k threads relay-1..relay-K, relay-1
    sleeping -s µs and waking relay-2, each waking the next, -n rounds."""
    return os.environ["WT_RELAY"]


@pytest.fixture
def privileged():
    require_root()


def run(args, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def folded_lines(text):
    return [line for line in text.splitlines() if line.strip()]


def parse_folded(line):
    """A folded line as (target frames, waker frames, value)."""
    stack, value = line.rsplit(" ", 1)
    target_part, waker_part = stack.split(";--;", 1) if ";--;" in stack else (stack, "")
    return target_part.split(";"), waker_part.split(";"), int(value)


def missed_switch_ins(stderr):
    """Periods the host's kernel did not report the end of (README, "What is
    counted"), from waketrace's warning: each also loses that period (and with
    --depth may stop a round's chain early, at the stage not seen back in)."""
    found = re.search(r"WARNING: (\d+) off-CPU periods lost: the kernel did not report the switch back in",
                      stderr)
    return int(found.group(1)) if found else 0
