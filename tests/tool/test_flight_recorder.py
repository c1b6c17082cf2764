# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --trigger-blocked MS, the flight recorder, on wt-stall: 200
pipe reads of about 1 ms each, and one that lasts 300 ms because the writer
was itself waiting 300 ms for a thread asleep on a timer. Exactly that stall
is written, once (the three waits it tripped are one incident), headed by the
reader's wait with its wake chain of two levels, within a second of the
stall's end; and the window's Perfetto trace reads with Perfetto's schema."""
import os
import re

import pytest

from ci_rule import require_root
from conftest import run
from perfetto_schema import decode_trace, perfetto_schema, unknown_fields

STALL_MS = 300
TRIGGER_MS = 100


@pytest.fixture(scope="module")
def recorded(waketrace, tmp_path_factory):
    """(the stall's text, the trace's path, the command's stderr, wt-stall's tids)."""
    require_root()
    perfetto_schema()
    directory = tmp_path_factory.mktemp("stalls")
    result = run([waketrace, "--trigger-blocked", str(TRIGGER_MS), "--trigger-dir", str(directory), "-f",
                  "--", os.environ["WT_STALL"], "200", "100", str(STALL_MS)])
    assert result.returncode == 0, result.stderr
    tids = dict(pair.split("=") for pair in re.search(r"client=\S+ server=\S+ sleeper=\S+",
                                                      result.stdout).group(0).split())
    written = sorted(os.listdir(directory))
    assert written == ["waketrace-stall-1.pftrace", "waketrace-stall-1.txt"], (written, result.stderr)
    text = (directory / "waketrace-stall-1.txt").read_text()
    return text, directory / "waketrace-stall-1.pftrace", result.stderr, tids


def test_the_stall_is_the_readers_wait_with_its_chain(recorded):
    text, _, stderr, tids = recorded
    head = text.splitlines()[0]
    assert re.match(rf"stall 1: stall-client-{tids['client']} ", head), head
    assert f"woken by stall-server-{tids['server']}" in head
    off_ms = float(re.search(r"off CPU ([\d.]+) ms", head).group(1))
    assert STALL_MS <= off_ms < STALL_MS * 1.5
    assert "wake chain: 2 levels" in text
    levels = re.findall(r"^  (\d)\. (\S+) had been off CPU ([\d.]+) ms .* woken by (\S+)$", text, re.MULTILINE)
    assert [(number, who, waker) for number, who, _, waker in levels] == [
        ("1", f"stall-server-{tids['server']}", f"stall-sleeper-{tids['sleeper']}"),
        ("2", f"stall-sleeper-{tids['sleeper']}", "[hardirq]"),
    ]
    for _, _, level_ms, _ in levels:
        assert float(level_ms) >= STALL_MS * 0.95
    assert "triggers in this incident: 3" in text
    assert "stall 1:" in stderr and "not written" not in stderr


def test_it_is_written_within_a_second_of_the_stalls_end(recorded):
    text, _, _, _ = recorded
    ended = int(re.search(r"^  switch_out_ns=\d+ waking_ns=\d+ switch_in_ns=(\d+)$", text, re.MULTILINE).group(1))
    written = int(re.search(r"^written_ns=(\d+)$", text, re.MULTILINE).group(1))
    assert 0 < written - ended < 1_000_000_000


def test_the_stacks_name_where_each_level_waited(recorded):
    text, _, _, _ = recorded
    blocks = text.split("wake chain:")
    assert "pipe_read" in blocks[0] and "pipe_write" in blocks[0]  # the reader, and the server waking it
    assert "pipe_read" in blocks[1]  # the server waited in a read
    assert "nanosleep" in blocks[1]  # the sleeper


def test_the_windows_trace_reads_with_perfettos_schema(recorded):
    _, trace, _, _ = recorded
    decoded = decode_trace(trace)
    assert unknown_fields(decoded) == []
    for name in ("stall-client", "stall-server", "stall-sleeper"):
        assert f'thread_name: "{name}"' in decoded
    assert 'name: "[hardirq]"' in decoded
