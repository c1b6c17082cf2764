# SPDX-License-Identifier: LGPL-2.1-or-later
"""The layouts' per_process / per_thread keywords on a profile of two
processes with one name, Profile.threads_to_dataframe() against
Profile.threads, and waketrace.diff_flamegraph() on real folded text."""
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter

import pytest

import waketrace
from ci_rule import require_root

SVG = "{http://www.w3.org/2000/svg}"
# Waits for a line on stdin, then sleeps 5 ms 40 times: every process of
# it is named "python3" (its comm), whatever its pid.
SLEEPER = "import sys, time\nsys.stdin.readline()\nfor _ in range(40):\n    time.sleep(0.005)\n"


@pytest.fixture(scope="module")
def two_processes():
    require_root()
    sleepers = [subprocess.Popen([sys.executable, "-c", SLEEPER], stdin=subprocess.PIPE) for _ in range(2)]
    try:
        with waketrace.Profiler(pids=[p.pid for p in sleepers]) as profiler:
            for sleeper in sleepers:
                sleeper.stdin.write(b"go\n")
                sleeper.stdin.flush()
            for sleeper in sleepers:
                sleeper.wait(timeout=30)
        return profiler.results(), [p.pid for p in sleepers]
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


def folded_roots(folded):
    """{first frame: summed value} of folded lines."""
    totals = Counter()
    for line in folded.splitlines():
        frames, value = line.rsplit(" ", 1)
        totals[frames.split(";")[0]] += int(value)
    return totals


def test_per_process_splits_one_comm_into_its_processes(two_processes):
    profile, pids = two_processes
    merged = folded_roots(profile.folded())
    apart = folded_roots(profile.folded(per_process=True))
    comm = profile.threads[0].task.comm
    assert {name for name in apart if name.startswith(comm + "-")} == {f"{comm}-{pid}" for pid in pids}
    # Split, not changed: each comm's time is the sum of its processes'.
    for name, total in merged.items():
        assert total == sum(value for root, value in apart.items() if root.rsplit("-", 1)[0] == name), name
    # Each process slept about 40 x 5 ms.
    for pid in pids:
        assert 150_000 <= apart[f"{comm}-{pid}"] <= 800_000, apart


def test_per_thread_names_pid_and_tid_in_every_layout(two_processes):
    profile, pids = two_processes
    roots = folded_roots(profile.folded(per_thread=True))
    pattern = re.compile(r"^(.+)-(\d+)/(\d+)$")
    threads = {(t.task.tgid, t.task.tid) for t in profile.threads}
    for root in roots:
        found = pattern.match(root)
        assert found, root
        assert (int(found.group(2)), int(found.group(3))) in threads
    text = profile.text(per_process=True)
    for pid in pids:
        assert re.search(rf"^    target:\s+\S+-{pid} \d+$", text, re.M), text[:2000]
    svg = ElementTree.fromstring(profile.flamegraph(per_process=True).encode())
    depth_one = {g.find(SVG + "title").text.split("\n")[0]
                 for g in svg.find(f"{SVG}g[@class='frames']") if g.get("data-depth") == "1"}
    assert depth_one == set(folded_roots(profile.folded(per_process=True)))
    with pytest.raises(ValueError, match="per_process=True and per_thread=True cannot be combined"):
        profile.folded(per_process=True, per_thread=True)


def test_threads_dataframe_is_profile_threads(two_processes):
    profile, pids = two_processes
    frame = profile.threads_to_dataframe()
    assert list(frame.columns) == ["tid", "pid", "comm", "total_us", "blocked_us", "runqueue_us", "max_us",
                                   "count"]
    assert len(frame) == len(profile.threads) >= 2
    for row, thread in zip(frame.itertuples(index=False), profile.threads):
        assert (row.tid, row.pid, row.comm, row.count) == (thread.task.tid, thread.task.tgid, thread.task.comm,
                                                           thread.count)
        assert row.total_us == thread.total_ns / 1000
        assert row.blocked_us == thread.blocked_ns / 1000
        assert row.runqueue_us == thread.runqueue_ns / 1000
        assert row.max_us == thread.max_ns / 1000
    assert set(frame["pid"]) == set(pids)


def test_diff_flamegraph_of_two_layouts_of_one_profile(two_processes):
    profile, pids = two_processes
    # The same time named two ways: every merged root vanished, every
    # per-process root is new, and the widths are the per-process ones.
    svg = waketrace.diff_flamegraph(profile.folded(), profile.folded(per_process=True),
                                    before_name="merged", after_name="apart")
    root = ElementTree.fromstring(svg.encode())
    frames = {g.find(SVG + "title").text.split("\n")[0]: g
              for g in root.find(f"{SVG}g[@class='frames']") if g.get("data-depth") == "1"}
    apart = folded_roots(profile.folded(per_process=True))
    for name, value in apart.items():
        assert int(frames[name].get("data-after-us")) == value
        assert int(frames[name].get("data-before-us")) == 0
        assert frames[name].find(SVG + "rect").get("fill").startswith("rgb(255,")
    comm = profile.threads[0].task.comm
    assert "hide" in frames[comm].get("class")
    assert "only in merged" in root.find(f"{SVG}text[@class='subtitle']").text
    with pytest.raises(ValueError, match=r"apart is not folded: line 2: "):
        waketrace.diff_flamegraph("a;b 1\n", "a;b 1\nnot folded\n", after_name="apart")
    with pytest.raises(ValueError, match="widths='wall' is not one of 'after', 'before'"):
        waketrace.diff_flamegraph("a 1\n", "a 2\n", widths="wall")
