# SPDX-License-Identifier: LGPL-2.1-or-later
"""Two Python threads pass a token through a pipe with known sleeps: the
reader's time blocked in pipe_read must be blamed on the writer, in
pipe_write, and measured. The one profile also serves the output tests."""
import os

import pytest

import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass, counted_rounds, describe, has_frame

ROUNDS = 10
SLEEP_S = 0.02


@pytest.fixture(scope="module")
def pipe_run():
    require_root()
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    with waketrace.Profiler(tids=[work.reader.tid]) as profiler:
        work.run()
    return profiler.results(), work


def pipe_chains(profile, work):
    return [chain for chain in profile.chains
            if chain.target.tid == work.reader.tid and has_frame(chain.kernel_stack, "pipe_read")
            and chain.wakers[0].context != "preempted"]  # blocking waits, not preemptions


def test_only_the_reader_is_profiled(pipe_run):
    profile, work = pipe_run
    assert profile.chains, "nothing captured"
    assert {chain.target.tid for chain in profile.chains} == {work.reader.tid}


def test_reader_in_pipe_read_is_woken_by_the_writer_in_pipe_write(pipe_run):
    profile, work = pipe_run
    chains = pipe_chains(profile, work)
    assert chains, describe(profile)
    for chain in chains:
        assert chain.target.comm == "wt-py-reader"
        assert chain.target.pid == os.getpid()
        assert len(chain.wakers) == 1
        assert chain.end == "complete"  # chain_depth 1, the default
        waker = chain.wakers[0]
        assert waker.blocked_kernel_stack.status == "not_captured"
        assert waker.blocked_user_stack.frames == []
        assert waker.context == "task"
        assert waker.task.tid == work.writer.tid
        assert waker.task.comm == "wt-py-writer"
        assert has_frame(waker.kernel_stack, "pipe_write"), waker.kernel_stack.frames
        assert chain.total_ns == chain.blocked_ns + chain.runqueue_ns
        assert chain.max_ns <= chain.total_ns


def test_every_round_is_counted_and_timed(pipe_run):
    profile, work = pipe_run
    chains = pipe_chains(profile, work)
    seen = sum(chain.count for chain in chains)
    assert counted_rounds(seen, profile, ROUNDS), describe(profile)
    blocked_ns = sum(chain.blocked_ns for chain in chains)
    # Inside the reader's read() calls: the blocked periods and their
    # wake-up latency; a round counted as lost takes its share out of the
    # lower bound.
    assert 0.85 * work.waited_ns * seen / ROUNDS <= blocked_ns <= work.waited_ns, (blocked_ns, work.waited_ns, seen)
    # missed_switch_ins: switches the host did not report (README, "What is counted").
    assert profile.losses.total - profile.losses.missed_switch_ins == 0, repr(profile.losses)


def test_folded_lines_name_target_and_waker(pipe_run):
    profile, _ = pipe_run
    lines = profile.folded().splitlines()
    assert len(lines) == len(profile.chains)
    # Not a preemption inside the read path (a slow host shows those).
    pipe_lines = [line for line in lines if line.startswith("wt-py-reader;") and "pipe_read" in line
                  and not line.rsplit(" ", 1)[0].endswith(";[preempted]")]
    assert pipe_lines, lines
    frames, total_us = pipe_lines[0].rsplit(" ", 1)
    assert frames.endswith(";wt-py-writer")
    assert int(total_us) > 0


def test_text_layout_names_the_target(pipe_run):
    profile, work = pipe_run
    text = profile.text()
    assert f"wt-py-reader {work.reader.tid}" in text
    assert "wt-py-writer" in text
    kernel_only = profile.text(stacks="kernel", delimiter=True)
    assert "pipe_read" in kernel_only
    with pytest.raises(ValueError, match="stacks"):
        profile.folded(stacks="sideways")


def test_dataframe_has_one_row_per_chain(pipe_run):
    pytest.importorskip("pandas")
    profile, work = pipe_run
    table = profile.to_dataframe()
    assert list(table.columns) == [
        "target_comm", "target_tid", "target_pid", "waker", "waker_tid", "waker_context",
        "total_us", "blocked_us", "runqueue_us", "max_us", "count",
        "target_kernel_stack", "target_user_stack", "waker_kernel_stack", "waker_user_stack",
        "depth", "end", "waker_path",
        "p50_us", "p90_us", "p99_us", "runqueue_p50_us", "runqueue_p90_us", "runqueue_p99_us",
        "runqueue_max_us"]
    assert len(table) == len(profile.chains)
    rows = table[(table.target_tid == work.reader.tid)
                 & table.target_kernel_stack.str.contains("pipe_read")
                 & (table.waker_context != "preempted")]
    assert not rows.empty, table.to_string()
    assert (rows.target_comm == "wt-py-reader").all()
    assert (rows.waker == "wt-py-writer").all()
    assert (rows.waker_tid == work.writer.tid).all()
    assert (rows.waker_context == "task").all()
    assert counted_rounds(rows["count"].sum(), profile, ROUNDS)
    assert (rows.total_us > 0).all()
    assert rows.waker_kernel_stack.str.contains("pipe_write").all()
    # chain_depth 1: one level per chain, complete, the path is the one waker.
    assert (table.depth == 1).all(), table.to_string()
    assert (table.end == "complete").all()
    assert (rows.waker_path == f"wt-py-writer-{work.writer.tid}").all()


def test_results_are_read_only_and_print_usefully(pipe_run):
    profile, work = pipe_run
    chain = pipe_chains(profile, work)[0]
    assert repr(profile).startswith(f"<Profile {len(profile.chains)} chains")
    assert "wt-py-reader" in repr(chain) and "wt-py-writer" in repr(chain)
    assert repr(chain.target) == f"<Task wt-py-reader tid={work.reader.tid} pid={os.getpid()}>"
    assert repr(chain.kernel_stack).startswith(f"<Stack {len(chain.kernel_stack.frames)} frames: ")
    frame = chain.kernel_stack.frames[0]
    assert frame.symbol and frame.module and frame.address
    assert repr(frame).startswith(f"<Frame {frame.symbol}+")
    assert repr(profile.losses).startswith(f"<Losses total={profile.losses.total} ")
    assert "hop_map_full=0" in repr(profile.losses)
    losses = profile.losses
    assert losses.chain_states_full == losses.hop_map_full == losses.hop_collisions == 0
    with pytest.raises(AttributeError):
        chain.count = 0
    with pytest.raises(AttributeError):
        chain.target.tid = 1
