# SPDX-License-Identifier: LGPL-2.1-or-later
"""start/stop/results/drain, the context manager and the log callback, on
real threads."""
import os
import threading
import time

import waketrace
from workloads import PipeTokenPass, WorkerThread, counted_rounds, describe, has_frame


def test_context_manager_starts_and_stops(privileged):
    work = PipeTokenPass(rounds=3, sleep_s=0.005)
    profiler = waketrace.Profiler(tids=[work.reader.tid])
    assert not profiler.running
    with profiler as entered:
        assert entered is profiler
        assert profiler.running
        work.run()
    assert not profiler.running
    profiler.stop()  # idempotent
    profile = profiler.results()  # still readable after stop
    assert sum(chain.count for chain in profile.chains
               if has_frame(chain.kernel_stack, "pipe_read")
               and chain.wakers[0].context != "preempted") == 3, describe(profile)
    assert profile.duration_ns > 0


def test_context_manager_stops_when_the_block_raises(privileged):
    profiler = waketrace.Profiler(tids=[threading.get_native_id()])
    try:
        with profiler:
            raise KeyError("from the block")
    except KeyError:
        pass
    assert not profiler.running


class PipeReader:
    """A thread reading single bytes from a pipe until it is closed, and
    acknowledging each on a second pipe. The test's own thread writes them,
    so it decides when each read ends. It starts reading at start(): a read
    that blocked before the profiler started would not be counted."""

    def __init__(self):
        self._read_fd, self._write_fd = os.pipe()
        self._ack_read_fd, self._ack_write_fd = os.pipe()
        self._go = threading.Event()
        self.thread = WorkerThread("wt-py-drain", self._read_until_closed, self._go)

    def start(self):
        self._go.set()

    def _read_until_closed(self):
        while os.read(self._read_fd, 1):
            os.write(self._ack_write_fd, b"a")

    def write_tokens(self, rounds, sleep_s):
        for _ in range(rounds):
            time.sleep(sleep_s)
            os.write(self._write_fd, b"t")
            # A chain is counted when its target runs again: once the reader
            # has answered, a drain() sees this read whatever the load.
            assert os.read(self._ack_read_fd, 1) == b"a"

    def close(self):
        os.close(self._write_fd)
        self.thread.join()
        for fd in (self._read_fd, self._ack_read_fd, self._ack_write_fd):
            os.close(fd)


def reads_woken_by(profile, reader, writer_tid):
    return sum(chain.count for chain in profile.chains
               if chain.target.tid == reader.thread.tid and has_frame(chain.kernel_stack, "pipe_read")
               and chain.wakers[0].task.tid == writer_tid)


def test_second_drain_returns_only_what_came_after_the_first(privileged):
    reader = PipeReader()
    writer_tid = threading.get_native_id()
    try:
        with waketrace.Profiler(tids=[reader.thread.tid]) as profiler:
            reader.start()
            reader.write_tokens(rounds=5, sleep_s=0.01)
            first = profiler.drain()
            reader.write_tokens(rounds=3, sleep_s=0.01)
            second = profiler.drain()
    finally:
        reader.start()  # in case the profiler failed to start: let the thread end
        reader.close()
    assert counted_rounds(reads_woken_by(first, reader, writer_tid), first, 5), describe(first)
    assert counted_rounds(reads_woken_by(second, reader, writer_tid), second, 3), describe(second)
    assert 0 < second.duration_ns < first.duration_ns + second.duration_ns


def test_log_callback_hears_the_attach(privileged):
    messages = []
    profiler = waketrace.Profiler(tids=[threading.get_native_id()],
                                  log=lambda level, message: messages.append((level, message)))
    profiler.start()  # the callback runs inside, with the GIL taken back
    profiler.stop()
    assert any(level == "info" and "attached" in message for level, message in messages), messages


def test_a_tiny_max_chains_counts_what_it_lost_and_names_the_keyword(privileged):
    # Every thread of the machine for a moment: far more than two chains
    # within one 50 ms look at the map, so some find it full even though it
    # is moved to user space (and so the profile may hold more than two).
    with waketrace.Profiler(max_chains=2) as profiler:
        time.sleep(0.3)
    profile = profiler.results()
    assert profile.chains
    assert profile.losses.chain_map_full > 0, profile.losses
    assert "max_chains" in type(profile.losses).chain_map_full.__doc__
