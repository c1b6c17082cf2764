# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --events and --perfetto FILE on the demo, whose periods are
known (demo-pong blocks reading a pipe, ROUNDS times, until demo-ping writes
after sleeping SLEEP_MS): a line per period as it ends, every read there
with its waker and a blocked time of at least the sleep, adding up to the
folded report's chain of the same run; and the Perfetto trace, read by
protoc with Perfetto's own schema, holding both threads, the read slices
and one flow per waking."""
import re

import pytest

from ci_rule import require_root
from conftest import folded_lines, missed_switch_ins, parse_folded, run
from perfetto_schema import decode_trace, perfetto_schema, unknown_fields

ROUNDS = 20
SLEEP_MS = 10
EVENT = re.compile(r"^(\d+)\.(\d{6}) (.+)-(\d+) pid=(\d+) state=(\S+) off_us=(\d+) blocked_us=(\d+) "
                   r"runqueue_us=(\d+) in=(.+?) waker=(.+)$")


@pytest.fixture(scope="module")
def demo_run(waketrace, demo, tmp_path_factory):
    """(the event lines parsed, the folded lines, stderr, the trace's path)."""
    require_root()
    perfetto_schema()
    trace = tmp_path_factory.mktemp("perfetto") / "demo.pftrace"
    result = run([waketrace, "-f", "--events", "--perfetto", str(trace), "--", demo, str(ROUNDS), str(SLEEP_MS)])
    assert result.returncode == 0, result.stderr
    events = [EVENT.match(line) for line in result.stdout.splitlines() if " pid=" in line]
    assert events and all(events), result.stdout
    folded = [parse_folded(line) for line in folded_lines(result.stdout)
              if not line.startswith("waketrace-demo:") and " pid=" not in line]
    return events, folded, result.stderr, trace


def pipe_reads(events):
    """demo-pong's reads woken by demo-ping: one a round, and the last read,
    which ping's closing of the pipe ends at once."""
    return [event for event in events
            if event.group(3) == "demo-pong" and event.group(11).startswith("demo-ping-")]


def test_every_read_is_a_line_with_its_waker_and_times(demo_run):
    events, _, stderr, _ = demo_run
    reads = pipe_reads(events)
    rounds = [event for event in reads if int(event.group(8)) >= SLEEP_MS * 1000 * 9 // 10]
    assert ROUNDS - missed_switch_ins(stderr) <= len(rounds) <= ROUNDS, stderr
    assert len(reads) - len(rounds) <= 1  # the read the close ended
    for event in reads:
        assert event.group(6) == "S"
        assert "read" in event.group(10)
        off, blocked, runqueue = (int(event.group(i)) for i in (7, 8, 9))
        assert abs(off - blocked - runqueue) <= 1  # each rounded down to whole microseconds
    stamps = [int(e.group(1)) * 1_000_000 + int(e.group(2)) for e in events if e.group(3) == "demo-pong"]
    assert stamps == sorted(stamps)  # one thread's periods come in order


def test_the_lines_add_up_to_the_folded_chain(demo_run):
    events, folded, _, _ = demo_run
    chains = [value for target, wakers, value in folded
              if target[0] == "demo-pong" and wakers and wakers[-1] == "demo-ping"
              and any(frame.endswith("pipe_read") for frame in target)]
    assert chains
    summed = sum(int(event.group(7)) for event in pipe_reads(events))
    # The chain sums nanoseconds; each line rounds its period down.
    assert summed <= sum(chains) <= summed + len(pipe_reads(events))


def test_the_perfetto_trace_reads_with_perfettos_schema(demo_run):
    events, _, _, trace = demo_run
    decoded = decode_trace(trace)
    assert unknown_fields(decoded) == []
    for name in ("demo-pong", "demo-ping"):
        assert f'thread_name: "{name}"' in decoded
    starts = re.findall(r"^\s*flow_ids: (\d+)$", decoded, re.MULTILINE)
    ends = re.findall(r"^\s*terminating_flow_ids: (\d+)$", decoded, re.MULTILINE)
    assert sorted(starts) == sorted(ends)
    wakings = [event for event in events if event.group(11) not in ("[preempted]", "[unseen]")]
    assert len(starts) == len(wakings)
    functions = set(re.findall(r'function_names \{\s*iid: \d+\s*str: "([^"]*)"', decoded))
    assert any(name.endswith("pipe_read") for name in functions)
    assert any(name.endswith("pipe_write") for name in functions)
