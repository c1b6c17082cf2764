# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real Python threads that block and wake each other in known ways.

Each workload creates its threads at once, so their tids are known and a
profiler can be started on them, and lets them work only in run()."""
import ctypes
import os
import threading
import time

_PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


def counted_rounds(seen, profile, rounds):
    """Whether `seen` of a workload's `rounds` blocking waits came back, the
    rest counted as lost: only to switches the host hid from the kernel
    (missed_switch_ins, README "What is counted"), which a test cannot
    prevent, and which end a period before its waker is known."""
    return rounds - profile.losses.missed_switch_ins <= seen <= rounds


def name_this_thread(name):
    """Python 3.11 leaves OS thread names alone, and the profiler reports
    comms: name the calling thread (the kernel keeps 15 bytes)."""
    _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


class WorkerThread:
    """A named thread whose tid is known when the constructor returns; it
    calls work() once `go` is set. join() re-raises what work() raised."""

    def __init__(self, name, work, go):
        self.tid = None
        self._error = None
        self._ready = threading.Event()
        # A daemon, so a test that fails before `go` does not hang pytest's exit.
        self._thread = threading.Thread(target=self._main, args=(name, work, go), name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self, name, work, go):
        name_this_thread(name)
        self.tid = threading.get_native_id()
        self._ready.set()
        go.wait()
        try:
            work()
        except BaseException as error:  # handed to join(), in the test's thread
            self._error = error

    def join(self):
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "workload thread hung"
        if self._error is not None:
            raise self._error


def _wait_until_blocked_in(tid, function, give_up_s=2.0):
    """Until the thread sleeps in `function` (its wchan), or give_up_s."""
    deadline = time.monotonic() + give_up_s
    while time.monotonic() < deadline:
        with open(f"/proc/self/task/{tid}/wchan") as wchan:
            if function in wchan.read():
                return
        time.sleep(0.0001)


class _TimedSleeps:
    """Sleeps that add up how long they really took (time.sleep overshoots)."""

    def __init__(self):
        self.slept_ns = 0

    def sleep(self, seconds):
        before = time.monotonic_ns()
        time.sleep(seconds)
        self.slept_ns += time.monotonic_ns() - before


class PipeTokenPass:
    """The writer waits for the reader to block, sleeps, then writes one byte
    to a pipe, `rounds` times; the reader blocks in read() for each byte:
    pipe_read woken by pipe_write. sleep_s may be a list: round i sleeps
    sleep_s[i % len(sleep_s)]."""

    def __init__(self, rounds, sleep_s):
        self.rounds = rounds
        self._sleep_s = sleep_s
        self._sleeps = _TimedSleeps()
        self.waited_ns = 0  # the reader's time inside read(): its blocked periods and more
        self._read_fd, self._write_fd = os.pipe()
        go = self._go = threading.Event()
        self.reader = WorkerThread("wt-py-reader", self._read_tokens, go)
        self.writer = WorkerThread("wt-py-writer", self._write_tokens, go)

    @property
    def slept_ns(self):
        return self._sleeps.slept_ns

    def _read_tokens(self):
        for _ in range(self.rounds):
            before = time.monotonic_ns()
            token = os.read(self._read_fd, 1)
            self.waited_ns += time.monotonic_ns() - before
            assert token == b"t"

    def _write_tokens(self):
        lengths = self._sleep_s if isinstance(self._sleep_s, (list, tuple)) else [self._sleep_s]
        for i in range(self.rounds):
            # Written before the reader blocks, a byte would be read without
            # a wait, or its waking would race the reader's switch-out. And
            # the sleep starts once it is blocked, so that each wait lasts at
            # least the sleep, however late the reader came back to read().
            _wait_until_blocked_in(self.reader.tid, "pipe_read")
            self._sleeps.sleep(lengths[i % len(lengths)])
            os.write(self._write_fd, b"t")

    def run(self):
        self._go.set()
        self.reader.join()
        self.writer.join()
        os.close(self._read_fd)
        os.close(self._write_fd)


class EventHandoff:
    """The setter sleeps, then sets a threading.Event, `rounds` times; the
    waiter waits for it and clears it: futex_wait woken by futex_wake."""

    def __init__(self, rounds, sleep_s):
        self.rounds = rounds
        self._sleep_s = sleep_s
        self._sleeps = _TimedSleeps()
        self._event = threading.Event()
        go = self._go = threading.Event()
        self.waiter = WorkerThread("wt-py-waiter", self._wait_for_events, go)
        self.setter = WorkerThread("wt-py-setter", self._set_events, go)

    @property
    def slept_ns(self):
        return self._sleeps.slept_ns

    def _wait_for_events(self):
        for _ in range(self.rounds):
            assert self._event.wait(timeout=30)
            # The setter's next set() is a whole sleep away: no race.
            self._event.clear()

    def _set_events(self):
        for _ in range(self.rounds):
            self._sleeps.sleep(self._sleep_s)
            self._event.set()

    def run(self):
        self._go.set()
        self.waiter.join()
        self.setter.join()


def has_frame(stack, part):
    """Whether any frame's name contains `part` ("pipe_read" matches
    anon_pipe_read on newer kernels)."""
    return any(part in frame.name for frame in stack.frames)


def describe(profile):
    """The chains, for assertion messages."""
    return "\n".join(repr(chain) for chain in profile.chains) or "no chains"
