# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Perfetto trace of the test batch (perfetto_trace_sample, built from
tests/format/event_builders.hpp) decoded by protoc with Perfetto's own,
whole schema: it must parse as perfetto.protos.Trace with no field that
schema does not know (protoc prints those as bare numbers, "55 {" or
"56: 3"), and hold the thread names, the slice names, the flows and the
functions of the stacks.

tests/pyshared/perfetto_schema.py says where the schema comes from."""
import os
import re
import subprocess

import pytest

from perfetto_schema import decode_trace, perfetto_schema, unknown_fields


@pytest.fixture(scope="module")
def decoded(tmp_path_factory):
    perfetto_schema()  # skips before anything is written without the judge
    trace = tmp_path_factory.mktemp("perfetto") / "sample.pftrace"
    subprocess.run([os.environ["PERFETTO_TRACE_SAMPLE"], str(trace)], check=True)
    return decode_trace(trace)


def test_every_field_is_known_to_perfettos_schema(decoded):
    assert unknown_fields(decoded) == []
    assert decoded.count("packet {") > 20


def test_tracks_name_the_threads_and_processes(decoded):
    for name in ("ping", "pong", "worker", "kworker/0:1"):
        assert f'thread_name: "{name}"' in decoded
    assert 'process_name: "ping"' in decoded
    assert 'name: "[hardirq]"' in decoded
    assert "primary_trace_clock: BUILTIN_CLOCK_MONOTONIC" in decoded
    assert "timestamp_clock_id: 3" in decoded


def test_slices_are_named_and_flows_join_wakers_to_wakees(decoded):
    for name in ("read", "runnable", "running", "runnable (preempted)", "do_nanosleep",
                 "folio_wait_bit_common", "wakes ping", "wakes pong", "wakes worker"):
        assert f'name: "{name}"' in decoded
    assert "type: TYPE_SLICE_BEGIN" in decoded and "type: TYPE_INSTANT" in decoded
    starts = re.findall(r"^\s*flow_ids: (\d+)$", decoded, re.MULTILINE)
    ends = re.findall(r"^\s*terminating_flow_ids: (\d+)$", decoded, re.MULTILINE)
    # 6 ping-pong periods and 2 of the worker's were woken: one flow each.
    assert len(starts) == 8 and sorted(starts) == sorted(ends) and len(set(starts)) == 8


def test_stacks_are_interned_with_their_functions(decoded):
    functions = set(re.findall(r'function_names \{\s*iid: \d+\s*str: "([^"]*)"', decoded))
    assert {"read", "pipe_read", "__schedule", "write", "pipe_write", "hrtimer_interrupt",
            "main", "ping_loop", "worker_thread"} <= functions
    assert len(re.findall(r"^\s*callstacks \{", decoded, re.MULTILINE)) == 8
    assert "callstack_iid: " in decoded
    assert 'str: "pingpong"' in decoded  # a mapping's path component
