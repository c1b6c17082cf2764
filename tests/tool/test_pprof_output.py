# SPDX-License-Identifier: LGPL-2.1-or-later
"""waketrace --pprof FILE, read by the consumer people use: Go's pprof
(tests/pyshared/pprof_tool.py says where it comes from). On the demo, whose
chain is known (demo-pong blocked reading a pipe, demo-ping writing to it
after a sleep), and on wt-relay at --depth 3: the chain is there in order,
target, "--", waker; every sample's values agree with the folded report of
the same run; and pprof, told to forget our names, finds the same functions
from the mappings' files, offsets and build-ids."""
import os
import re
import subprocess

import pytest

from ci_rule import require_root
from conftest import folded_lines, parse_folded, run
from pprof_tool import find_pprof, pprof, raw_samples, traces

ROUNDS = 20
SLEEP_MS = 10


@pytest.fixture(scope="module")
def demo_run(waketrace, demo, tmp_path_factory):
    """(pprof, the profile's path, the folded lines of the same run)."""
    require_root()
    tool = find_pprof()
    profile = tmp_path_factory.mktemp("pprof") / "demo.pb.gz"
    result = run([waketrace, "-f", "--pprof", str(profile), "--", demo, str(ROUNDS), str(SLEEP_MS)])
    assert result.returncode == 0, result.stderr
    folded = [parse_folded(line) for line in folded_lines(result.stdout)
              if not line.startswith("waketrace-demo:")]
    assert folded
    return tool, profile, folded


def offcpu_ns(values):
    # periods/count, offcpu, blocked, runqueue (nanoseconds)
    return values[1]


def test_every_chain_is_one_sample_with_its_folded_total(demo_run):
    tool, profile, folded = demo_run
    samples = raw_samples(pprof(tool, "-raw", str(profile)))
    assert len(samples) == len(folded)
    # The folded layout prints whole microseconds of the same nanoseconds.
    from_pprof = sorted((labels["target_comm"], offcpu_ns(values) // 1000) for values, _, labels in samples)
    from_folded = sorted((target[0], value) for target, _, value in folded)
    assert from_pprof == from_folded
    for values, _, labels in samples:
        periods, total, blocked, runqueue = values
        assert periods >= 1
        assert blocked + runqueue == total
        assert labels["target_tid"].isdigit() and labels["pid"].isdigit()
        assert labels["waker_context"] in ("task", "hardirq", "softirq", "nmi", "preempted", "unseen")


def test_the_pipe_chain_reads_target_then_separator_then_waker(demo_run):
    tool, profile, folded = demo_run
    pipe_chains = [(labels, frames) for labels, frames in traces(pprof(tool, "-traces", str(profile)))
                   if labels.get("target_comm") == "demo-pong" and labels.get("waker_comm") == "demo-ping"
                   and any(frame.endswith("pipe_read") for frame in frames)]
    assert pipe_chains
    for labels, frames in pipe_chains:
        # 6.18 names them anon_pipe_read / anon_pipe_write, 6.1 pipe_read / pipe_write.
        read = next(i for i, frame in enumerate(frames) if frame.endswith("pipe_read"))
        write = next(i for i, frame in enumerate(frames) if frame.endswith("pipe_write"))
        assert frames.count("--") == 1, frames
        assert read < frames.index("--") < write, frames
        assert frames[-1] == "demo-ping"  # the waker's name, as the folded line ends
        assert labels["waker_context"] == "task"
        assert labels["target_tid"] != labels["waker_tid"]
        assert labels["pid"] == labels["waker_pid"]  # two threads of the demo
    # The demo's own functions on each side (not in every chain: a write
    # caught before its wrapper set up a frame skips ping's frame, as in
    # the folded lines).
    assert any(any(frame.startswith("demo::pong") for frame in frames[:frames.index("--")]) and
               any(frame.startswith("demo::ping") for frame in frames[frames.index("--"):])
               for _, frames in pipe_chains)

    # Their time, to the microsecond as the folded report has it: pong waits
    # for ping's sleep each round.
    samples = raw_samples(pprof(tool, "-raw", str(profile)))
    pprof_us = sum(offcpu_ns(values) // 1000 for values, ids, labels in samples
                   if labels.get("target_comm") == "demo-pong" and labels.get("waker_comm") == "demo-ping")
    folded_us = sum(value for target, waker, value in folded
                    if target[0] == "demo-pong" and waker[-1] == "demo-ping")
    assert pprof_us == folded_us
    assert 0.8 * ROUNDS * SLEEP_MS * 1000 <= pprof_us <= 1.5 * ROUNDS * SLEEP_MS * 1000


def test_top_shows_the_whole_total_and_the_separator_in_every_sample(demo_run):
    tool, profile, folded = demo_run
    top = pprof(tool, "-top", "-unit=ns", str(profile))
    total = re.search(r"Showing nodes accounting for \S+, \S+ of (\d+)ns total", top)
    assert total, top
    samples = raw_samples(pprof(tool, "-raw", str(profile)))
    assert int(total.group(1)) == sum(offcpu_ns(values) for values, _, _ in samples)
    separator = [line.split() for line in top.splitlines() if line.split()[-1:] == ["--"]]
    assert separator, top
    assert separator[0][4] == "100%"  # cum%: every chain passes through it


def test_pprof_names_the_frames_again_from_the_mappings(demo_run, demo):
    tool, profile, _ = demo_run
    raw = pprof(tool, "-raw", str(profile))
    build_id = re.search(r"Build ID: ([0-9a-f]+)",
                         subprocess.run(["readelf", "-n", demo], capture_output=True, text=True).stdout)
    assert build_id
    mappings = raw[raw.index("Mappings"):]
    assert re.search(rf" {re.escape(os.path.abspath(demo))} {build_id.group(1)} ", mappings), mappings
    # :force drops the functions we named and asks addr2line, at each
    # address's offset in the mapped file: only if our offsets and build-id
    # are right does it find the demo's functions (by their linkage names).
    again = pprof(tool, "-symbolize=local:force", "-raw", str(profile))
    assert "s=0(_ZN4demo4pingERNS_8ChannelsEii)" in again
    assert "s=0(_ZN4demo4pongERNS_8ChannelsE)" in again


def test_depth_3_gives_every_waker_level_its_separator(waketrace, relay, privileged, tmp_path):
    tool = find_pprof()
    profile = tmp_path / "relay.pb.gz"
    # As tests/tool/test_cli_depth.py runs it: relay-1 sleeps, wakes relay-2, which wakes relay-3.
    result = run([waketrace, "--depth", "3", "-f", "--pprof", str(profile), "--",
                  relay, "-k", "3", "-n", str(ROUNDS), "-s", str(SLEEP_MS * 1000), "-r"])
    assert result.returncode == 0, result.stderr
    folded = [line for line in folded_lines(result.stdout) if ";--;" in line]
    samples = raw_samples(pprof(tool, "-raw", str(profile)))
    assert sorted(offcpu_ns(values) // 1000 for values, _, _ in samples) == \
        sorted(parse_folded(line)[2] for line in folded)
    full = [(labels, frames) for labels, frames in traces(pprof(tool, "-traces", str(profile)))
            if labels.get("target_comm") == "relay-3" and labels.get("waker3_context") == "hardirq"]
    assert full, "no relay-3 chain down to the timer"
    for labels, frames in full:
        assert labels["waker_comm"] == "relay-2" and labels["waker2_comm"] == "relay-1"
        # target -- relay-2 waking, name -- relay-2 blocked -- relay-1 waking, name -- timer, name
        assert frames.count("--") == 5, frames
        names = [frame for frame in frames if frame in ("relay-2", "relay-1", "[hardirq]")]
        assert names == ["relay-2", "relay-1", "[hardirq]"], frames
        assert frames[-1] == "[hardirq]"
