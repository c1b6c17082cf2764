# SPDX-License-Identifier: LGPL-2.1-or-later
"""`waketrace --depth N` on a command whose wake chain is known: wt-relay
(tests/live/relay.hpp), where relay-1 sleeps 10 ms and then wakes relay-2
through a pipe, which wakes relay-3 the same way. relay-3's wait is explained
by relay-2, relay-2's by relay-1, relay-1's by the timer interrupt."""
import re
import time

from conftest import folded_lines, missed_switch_ins, parse_folded, run

ROUNDS = 20
SLEEP_US = 10_000
HOPS = ["relay-2", "relay-1", "[hardirq]"]


def relay_run(waketrace, relay, *options, stderr=None, elapsed_us=None):
    # -r: the stages in SCHED_FIFO, so the machine's other work does not
    # keep one off the CPU past the sleep (its chain would rightly stop).
    start = time.monotonic()
    result = run([waketrace, *options, "--", relay, "-k", "3", "-n", str(ROUNDS), "-s", str(SLEEP_US), "-r"])
    if elapsed_us is not None:
        elapsed_us.append((time.monotonic() - start) * 1e6)
    assert result.returncode == 0, result.stderr
    if stderr is not None:
        stderr.append(result.stderr)
    return result.stdout


def relay3_lines(stdout):
    """relay-3's blocking waits in the pipe read (not preemptions), as
    (hop segments, value): the segments between ';--;' after the target's."""
    found = []
    for line in folded_lines(stdout):
        if not line.startswith("relay-3;"):
            continue  # wt-relay's own output, other threads
        stack, value = line.rsplit(" ", 1)
        segments = stack.split(";--;")
        if any("pipe_read" in frame for frame in segments[0].split(";")) and \
                not stack.endswith(";[preempted]"):
            found.append(([segment.split(";") for segment in segments[1:]], int(value)))
    return found


def hop_names(segments):
    """The hops' names in the order the line gives them."""
    return [frame for segment in segments for frame in segment if frame in HOPS]


def test_depth_3_folded_lines_give_the_hops_in_order(waketrace, relay, privileged):
    stderr, elapsed_us = [], []
    lines = relay3_lines(relay_run(waketrace, relay, "--depth", "3", "-f", stderr=stderr, elapsed_us=elapsed_us))
    assert lines, "no folded line of relay-3 blocked in pipe_read"
    segments, value = max(lines, key=lambda line: line[1])
    assert hop_names(segments) == HOPS, segments
    assert len(segments) >= len(HOPS), segments
    # Each hop's frames are in the segment that names it: relay-2 and
    # relay-1 woke their targets by writing the pipe, the timer by its wakeup.
    by_name = {name: segment for segment in segments for name in HOPS if name in segment}
    assert any("pipe_write" in frame for frame in by_name["relay-2"]), by_name["relay-2"]
    assert any("pipe_write" in frame for frame in by_name["relay-1"]), by_name["relay-1"]
    assert any("hrtimer_wakeup" in frame for frame in by_name["[hardirq]"]), by_name["[hardirq]"]
    # Nearly all of relay-3's wait (ROUNDS x the sleep) is in lines with
    # these hops (their stacks may differ: the first round's user stacks,
    # where the timer found the CPU), but for the rounds counted losses explain.
    in_full = sum(v for hops, v in lines if hop_names(hops) == HOPS and hops[-1] == segments[-1])
    excused = missed_switch_ins(stderr[0]) * 1.5 * SLEEP_US
    assert in_full + excused >= 0.99 * sum(v for _, v in lines), (lines, stderr)
    # At least the sleeps, at most the run (a slow machine oversleeps: 10 ms
    # sleeps took 15.5 ms each under emulation).
    assert 0.8 * ROUNDS * SLEEP_US <= in_full <= elapsed_us[0], (in_full, elapsed_us)


def test_depth_2_is_cut_after_two_hops(waketrace, relay, privileged):
    lines = relay3_lines(relay_run(waketrace, relay, "--depth", "2", "-f"))
    assert lines
    segments, _ = max(lines, key=lambda line: line[1])
    assert hop_names(segments) == HOPS[:2], segments
    assert "[hardirq]" not in {frame for segment in segments for frame in segment}
    # relay-1 had itself been woken during the wait: the cut is marked.
    assert segments[-1] == ["[deeper wakers not traced]"], segments


def test_depth_1_folded_lines_have_one_waker(waketrace, relay, privileged):
    lines = relay3_lines(relay_run(waketrace, relay, "-f"))
    assert lines
    for segments, _ in lines:
        assert len(segments) == 1, segments
        assert segments[0][-1] == "relay-2", segments


def test_depth_3_text_blocks_name_each_hop_in_order(waketrace, relay, privileged):
    out = relay_run(waketrace, relay, "--depth", "3")
    blocks = [block for block in out.split("\n\n")
              if re.search(r"^    target:\s+relay-3 \d+$", block, re.M) and "pipe_read" in block]
    assert blocks, out
    # The innermost hop nearest the target, at the bottom: read top down,
    # the timer first.
    names = [re.findall(r"^    waker:\s+(\S+)", block, re.M) for block in blocks]
    assert list(reversed(HOPS)) in names, names
