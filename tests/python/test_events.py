# SPDX-License-Identifier: LGPL-2.1-or-later
"""Profiler(events=True) from Python: every off-CPU period of a pipe token
pass between two Python threads comes through the iterator as the C++ API
delivers it (tests/live/test_events.cpp): each blocking read, in order, timed
against the workload's own clocks, its stacks named, and counted as the
chains count it. A reader that does not read loses events, counted; and a
wait for events lets the other Python threads run, and Ctrl-C end it."""
import errno
import os
import re
import selectors
import signal
import sys
import threading
import time

import pytest

import waketrace
from ci_rule import require_root
from perfetto_schema import decode_trace, unknown_fields
from workloads import PipeTokenPass, WorkerThread, counted_rounds, describe, has_frame

ROUNDS = 20
SLEEP_S = 0.01


def names(frames, part):
    """Whether a list of Frame names `part` (anon_pipe_read matches pipe_read)."""
    return any(part in frame.name for frame in frames)


def events_while(profiler, work):
    """Runs `work` in a thread that stops the profiler when done, while this
    thread takes the events as they come: the way a notebook would. Returns
    the events and how many came before the profiler was stopped."""
    failures = []
    stopping = threading.Event()

    def run_then_stop():
        try:
            work.run()
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)
        finally:
            stopping.set()
            profiler.stop()

    profiler.start()
    driver = threading.Thread(target=run_then_stop, daemon=True)
    driver.start()
    events, early = [], 0
    for event in profiler.events(timeout=60):  # ends once stopped and read
        events.append(event)
        early += not stopping.is_set()
    driver.join(timeout=60)
    assert not driver.is_alive(), "workload hung"
    if failures:
        raise failures[0]
    return events, early


@pytest.fixture(scope="module")
def pipe_events():
    require_root()
    work = PipeTokenPass(ROUNDS, SLEEP_S)
    profiler = waketrace.Profiler(tids=[work.reader.tid], events=True)
    events, early = events_while(profiler, work)
    # Read while the workload ran, not only once it had ended.
    assert early >= ROUNDS // 2, (early, len(events))
    return profiler, events, profiler.results(), work


def blocking_reads(profiler, events):
    """The events of the reader blocked in pipe_read, not preempted there."""
    return [event for event in events if event.waker_context != "preempted"
            and names(profiler.stack_frames(event.target_kernel_stack, event.target.pid, True), "pipe_read")]


def test_every_blocking_read_comes_in_order(pipe_events):
    profiler, events, profile, work = pipe_events
    assert profile.losses.off_cpu_events == 0, repr(profile.losses)
    # missed_switch_ins: switches the host did not report (README, "What is counted").
    assert profile.losses.total - profile.losses.missed_switch_ins == 0, repr(profile.losses)
    previous_end = 0
    for event in events:
        assert event.target.tid == work.reader.tid  # the tid filter held
        assert event.target.pid == os.getpid()
        # One thread's periods follow each other: each ends before the next begins.
        assert event.switch_out_ns >= previous_end, (event, previous_end)
        previous_end = event.switch_in_ns
        assert event.switch_out_ns <= event.switch_in_ns
        if event.waking_ns:
            assert event.switch_out_ns <= event.waking_ns <= event.switch_in_ns, event
        assert event.total_ns == event.blocked_ns + event.runqueue_ns
    reads = blocking_reads(profiler, events)
    assert counted_rounds(len(reads), profile, ROUNDS), (len(reads), repr(profile.losses))


def test_reads_are_woken_by_the_writer_and_timed(pipe_events):
    profiler, events, _, work = pipe_events
    reads = blocking_reads(profiler, events)
    assert reads, events
    for read in reads:
        assert read.state == 1  # S: an interruptible sleep in pipe_read
        assert read.waker_context == "task"
        assert read.waker.tid == work.writer.tid
        assert read.waker.pid == os.getpid()
        assert read.waker.comm == "wt-py-writer"
        assert read.waker_outside_filters  # tids= names only the reader
        assert names(profiler.stack_frames(read.waker_kernel_stack, read.waker.pid, True), "pipe_write")
        # The writer sleeps once the reader is blocked, then writes.
        assert read.blocked_ns >= 0.9 * SLEEP_S * 1e9, read
    # The workload's own clocks: each read() call, from before to after.
    # A round counted as lost takes its share out of the lower bound.
    blocked_ns = sum(read.blocked_ns for read in reads)
    assert 0.9 * work.waited_ns * len(reads) / ROUNDS <= blocked_ns <= work.waited_ns, (blocked_ns, work.waited_ns)


def test_event_stacks_name_all_four(pipe_events):
    profiler, events, _, _ = pipe_events
    read = blocking_reads(profiler, events)[0]
    stacks = profiler.event_stacks(read)
    assert set(stacks) == {"target_kernel_stack", "target_user_stack", "waker_kernel_stack",
                           "waker_user_stack"}
    assert names(stacks["target_kernel_stack"], "pipe_read")
    assert names(stacks["waker_kernel_stack"], "pipe_write")
    # Frame pointers lose libc's caller, but the leaf is libc's read.
    user = stacks["target_user_stack"]
    assert user and "libc" in user[0].module, user
    assert [frame.address for frame in user] == [
        frame.address for frame in profiler.stack_frames(read.target_user_stack, read.target.pid, False)]
    assert waketrace.stack_status(read.target_kernel_stack) == "ok"


def test_the_chains_count_the_same_reads(pipe_events):
    profiler, events, profile, work = pipe_events
    reads = blocking_reads(profiler, events)
    chains = [chain for chain in profile.chains
              if chain.target.tid == work.reader.tid and has_frame(chain.kernel_stack, "pipe_read")
              and chain.wakers[0].context != "preempted"]
    assert sum(chain.count for chain in chains) == len(reads), describe(profile)
    assert sum(chain.blocked_ns for chain in chains) == sum(read.blocked_ns for read in reads)


def test_the_events_as_a_perfetto_trace_read_with_perfettos_schema(pipe_events, tmp_path):
    profiler, events, _, _ = pipe_events
    decoded = decode_trace_bytes(profiler.perfetto_trace(events), tmp_path)
    assert unknown_fields(decoded) == []
    for name in ("wt-py-reader", "wt-py-writer"):
        assert f'thread_name: "{name}"' in decoded
    functions = set(re.findall(r'function_names \{\s*iid: \d+\s*str: "([^"]*)"', decoded))
    assert any(name.endswith("pipe_read") for name in functions), functions
    # One flow per waking: each read's waker, and nothing else woke the reader.
    starts = re.findall(r"^\s*flow_ids: (\d+)$", decoded, re.MULTILINE)
    wakings = [event for event in events if event.waker_context not in ("preempted", "unseen")]
    assert len(starts) == len(wakings)
    path = tmp_path / "written.pftrace"
    assert profiler.perfetto_trace(events, path) is None
    # The same trace but for its clock snapshot (the wall clock's offset, read anew).
    assert decode_trace(path).count("packet {") == decoded.count("packet {")


def decode_trace_bytes(trace, directory):
    path = directory / "events.pftrace"
    path.write_bytes(trace)
    return decode_trace(path)


def test_events_are_read_only_and_print_usefully(pipe_events):
    profiler, events, _, work = pipe_events
    read = blocking_reads(profiler, events)[0]
    text = repr(read)
    assert text.startswith(f"<OffCpuEvent wt-py-reader {work.reader.tid} <- wt-py-writer {work.writer.tid}: ")
    assert f"blocked {read.blocked_ns // 1000}" in text
    assert repr(read.target) == f"<Task wt-py-reader tid={work.reader.tid} pid={os.getpid()}>"
    with pytest.raises(AttributeError):
        read.switch_in_ns = 0
    # The iterator has ended, and stays ended; so does a read after stop.
    assert profiler.read_events(timeout=0) == []
    assert profiler.read_events() == []  # stopped and empty: no wait for ever


def test_an_unread_tiny_ring_loses_events_counted(privileged):
    work = PipeTokenPass(400, 0)
    page = os.sysconf("SC_PAGE_SIZE")
    profiler = waketrace.Profiler(tids=[work.reader.tid, work.writer.tid], events=True,
                                  events_ring_bytes=page)  # a few dozen events
    with profiler:
        work.run()  # nobody reads meanwhile
    events = []
    while batch := profiler.read_events(max=64):  # stopped: [] once empty
        assert len(batch) <= 64
        events += batch
    profile = profiler.results()
    periods = sum(chain.count for chain in profile.chains)
    assert periods >= 400, describe(profile)
    assert profile.losses.off_cpu_events > 0, repr(profile.losses)
    # Each period went into the chains, and into the ring or the count of
    # events lost; the ring held what it could.
    assert len(events) + profile.losses.off_cpu_events == periods, repr(profile.losses)
    assert events
    assert profiler.read_events(max=sys.maxsize, timeout=0) == []  # "all there are"


def test_events_fd_polls_readable_for_a_batch(privileged):
    work = PipeTokenPass(400, 0)
    profiler = waketrace.Profiler(tids=[work.reader.tid, work.writer.tid], events=True,
                                  events_ring_bytes=os.sysconf("SC_PAGE_SIZE"))
    with profiler, selectors.DefaultSelector() as selector:
        selector.register(profiler.events_fd(), selectors.EVENT_READ)
        driver = threading.Thread(target=work.run, daemon=True)
        driver.start()
        ready = selector.select(timeout=10)
        assert ready, "events_fd never polled readable"
        assert profiler.read_events(timeout=0)
        driver.join(timeout=60)


class Idle:
    """A traced thread that does nothing: a wait for its events sees none."""

    def __init__(self):
        self._go = threading.Event()
        self.thread = WorkerThread("wt-py-idle", lambda: None, self._go)

    def end(self):
        self._go.set()
        self.thread.join()


class Ticker:
    """A Python thread noting the time every 10 ms, each time it holds the GIL."""

    def __init__(self):
        self.ticks = []
        self._running = True
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()

    def _tick(self):
        while self._running:
            time.sleep(0.01)
            self.ticks.append(time.monotonic())

    def ticks_between(self, start, end):
        return sum(start < tick < end for tick in self.ticks)

    def end(self):
        self._running = False
        self._thread.join()


@pytest.mark.parametrize("wait", [
    lambda profiler: profiler.read_events(timeout=0.5),
    lambda profiler: list(profiler.events(timeout=0.5)),
], ids=["read_events", "events"])
def test_a_wait_lets_other_python_threads_run(privileged, wait):
    idle = Idle()
    ticker = Ticker()
    try:
        with waketrace.Profiler(tids=[idle.thread.tid], events=True) as profiler:
            before = time.monotonic()
            assert wait(profiler) == []
            after = time.monotonic()
    finally:
        ticker.end()
        idle.end()
    assert 0.45 <= after - before < 5, after - before
    # Holding the GIL for the wait would have stopped the ticks for 0.5 s:
    # about 40 come in its middle 0.4 s.
    assert ticker.ticks_between(before + 0.05, after - 0.05) >= 10, ticker.ticks


def test_one_iterator_waits_in_one_thread_at_a_time(privileged):
    idle = Idle()
    try:
        with waketrace.Profiler(tids=[idle.thread.tid], events=True) as profiler:
            events = profiler.events(timeout=1)
            waiter = threading.Thread(target=list, args=(events,), daemon=True)
            waiter.start()
            time.sleep(0.2)
            with pytest.raises(ValueError, match="already waiting in another thread"):
                next(events)
            waiter.join(timeout=10)
            assert not waiter.is_alive()
            with pytest.raises(StopIteration):  # ended by the silence, and stays ended
                next(events)
    finally:
        idle.end()


class Interrupted(Exception):
    pass


def test_a_signal_ends_a_wait_for_ever(privileged):
    def interrupt(signum, frame):
        raise Interrupted()

    idle = Idle()
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with waketrace.Profiler(tids=[idle.thread.tid], events=True) as profiler:
            # Should the signal go unnoticed, a stop ends the wait: a failure, not a hang.
            backstop = threading.Timer(10, profiler.stop)
            backstop.start()
            before = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(Interrupted):
                profiler.read_events()  # timeout None: until an event comes
            backstop.cancel()
            assert time.monotonic() - before < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        idle.end()


def test_events_need_events_true_and_a_start():
    profiler = waketrace.Profiler()
    with pytest.raises(ValueError, match="not configured with events"):
        profiler.read_events()
    with pytest.raises(ValueError, match="not configured with events"):
        profiler.events()
    with pytest.raises(ValueError, match="not configured with events"):
        profiler.events_fd()
    with pytest.raises(ValueError, match="not configured with events"):
        profiler.stack_frames(0, os.getpid(), True)
    waiting = waketrace.Profiler(events=True)
    with pytest.raises(ValueError, match="never started"):
        waiting.read_events(timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        waiting.read_events(timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        waiting.events(timeout=float("nan"))
    with pytest.raises(ValueError, match="max"):
        waiting.read_events(max=0)


def test_stack_status_names_why_an_id_has_no_frames():
    assert waketrace.stack_status(0) == "ok"
    assert waketrace.stack_status(-1000) == "not_captured"
    assert waketrace.stack_status(-1001) == "irq_dropped"
    assert waketrace.stack_status(-errno.EEXIST) == "collision"
