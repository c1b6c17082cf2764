# SPDX-License-Identifier: LGPL-2.1-or-later
"""Latency histograms per chain (histograms=True) from Python: a writer
sleeps 1.2 ms and 24 ms in turn before each byte it writes to a pipe, so the
reader's one chain has half its periods in the bucket of each length; the
DataFrame's percentile columns must say the same as the chain's histogram."""
import math
import os
import sys

import pytest

import waketrace
from ci_rule import require_root
from workloads import PipeTokenPass, counted_rounds, describe, has_frame

ROUNDS = 30
SHORT_S, LONG_S = 0.0012, 0.024


def bucket_of(us):
    """The bucket a duration in microseconds falls in (LatencyHistogram's doc)."""
    return 0 if us < 1 else min(int(us).bit_length(), 27)


def bucket_of_rank(buckets, fraction):
    """The bucket that holds the period of rank fraction * count (at least the first)."""
    rank = max(1.0, fraction * sum(buckets))
    seen = 0
    for i, count in enumerate(buckets):
        seen += count
        if count and seen >= rank:
            return i
    raise AssertionError(f"no rank {rank} in {buckets}")


def realtime(tid):
    # So that the machine's other work does not keep the threads waiting for
    # a CPU, which would move a period's length into the next bucket.
    os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(10))


@pytest.fixture(scope="module")
def histogram_run():
    require_root()
    work = PipeTokenPass(ROUNDS, [SHORT_S, LONG_S])
    realtime(work.reader.tid)
    realtime(work.writer.tid)
    # A writer back from its sleep may wait for the GIL up to the switch
    # interval (5 ms) if another thread holds it: a 1.4 ms round became a
    # 4 ms one once in a full suite run. 100 us bounds that wait.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    try:
        # With the events too: each period's own length, to check the
        # kernel's buckets against whatever lengths the host made.
        with waketrace.Profiler(tids=[work.reader.tid], histograms=True, events=True) as profiler:
            work.run()
    finally:
        sys.setswitchinterval(interval)
    profile = profiler.results()
    chains = [chain for chain in profile.chains
              if has_frame(chain.kernel_stack, "pipe_read") and chain.wakers[0].context == "task"
              and chain.wakers[0].task.tid == work.writer.tid]
    assert len(chains) == 1, describe(profile)  # woken the same way each round: one chain
    events = []
    while batch := profiler.read_events(timeout=0):
        events += batch
    reads = [event for event in events
             if event.waker_context == "task" and event.waker.tid == work.writer.tid
             and has_frame_named(profiler.stack_frames(event.target_kernel_stack, event.target.pid, True),
                                 "pipe_read")]
    assert profile.losses.off_cpu_events == 0, repr(profile.losses)
    return profile, chains[0], reads


def has_frame_named(frames, part):
    return any(part in frame.name for frame in frames)


def bucket_of_ns(ns):
    """The bucket of a period of `ns` nanoseconds, as the kernel counts it."""
    return min((ns // 1000).bit_length(), 27)


def test_each_period_is_counted_in_the_bucket_of_its_length(histogram_run):
    profile, chain, reads = histogram_run
    histogram = chain.histogram
    assert counted_rounds(chain.count, profile, ROUNDS)
    assert histogram.count == chain.count == sum(histogram.off_cpu) == sum(histogram.runqueue)
    assert profile.losses.histogram_map_full == 0
    # The same periods, one event each: their lengths, bucketed here, are
    # the kernel's counts, however long the host made them.
    assert len(reads) == chain.count
    off_cpu, runqueue = [0] * len(histogram.off_cpu), [0] * len(histogram.runqueue)
    for read in reads:
        off_cpu[bucket_of_ns(read.total_ns)] += 1
        runqueue[bucket_of_ns(read.runqueue_ns)] += 1
    assert list(histogram.off_cpu) == off_cpu
    assert list(histogram.runqueue) == runqueue


# A 1.2 ms sleep must end inside its log2 bucket (under 2.048 ms), after the
# writer's polls of the reader's wchan (up to 0.2 ms here) and the wake-up:
# 1.4 ms left too little room on a host whose sleeps overshoot (2026-12-03).
@pytest.mark.precise_timing
def test_the_periods_land_in_the_buckets_of_their_lengths(histogram_run):
    profile, chain, _ = histogram_run
    histogram = chain.histogram
    short, long = bucket_of(SHORT_S * 1e6), bucket_of(LONG_S * 1e6)
    low, high = histogram.bounds_us[short]
    assert low <= SHORT_S * 1e6 < high
    # Most rounds in the bucket of their length, or (a late wake-up) the
    # next. A busy host can hold a thread back for milliseconds now and
    # then (CI once saw 2 of 30 further off): the test above checks each
    # period's bucket against its own length.
    short_periods = histogram.off_cpu[short] + histogram.off_cpu[short + 1]
    long_periods = histogram.off_cpu[long] + histogram.off_cpu[long + 1]
    assert (short_periods + long_periods) * 10 >= chain.count * 8, histogram.off_cpu
    assert histogram.off_cpu[short] * 5 >= short_periods * 4, histogram.off_cpu
    assert histogram.off_cpu[long] * 5 >= long_periods * 4, histogram.off_cpu


@pytest.mark.precise_timing  # as above: the median must be a short period
def test_dataframe_percentiles_agree_with_the_histogram(histogram_run):
    profile, chain, _ = histogram_run
    frame = profile.to_dataframe()
    row = frame[(frame.target_tid == chain.target.tid) & (frame.waker_tid == chain.wakers[0].task.tid)
                & (frame["count"] == chain.count)].iloc[0]
    histogram = chain.histogram
    # Each estimate lies in the bucket that holds the period of its rank ...
    for column, fraction in (("p50_us", 0.5), ("p90_us", 0.9), ("p99_us", 0.99)):
        low, high = histogram.bounds_us[bucket_of_rank(histogram.off_cpu, fraction)]
        assert low <= row[column] <= high, (column, histogram.off_cpu)
    # ... so half the periods being short, the median is a short one (or
    # one a late wake-up moved to the next bucket); 90% and 99% are long.
    # An estimate may sit on its bucket's upper edge (the rank's period the
    # bucket's last), which bucket_of() would put in the next: compare with
    # the bounds instead.
    def within_bucket_or_next(us, bucket):
        return histogram.bounds_us[bucket][0] <= us <= histogram.bounds_us[bucket + 1][1]

    short = bucket_of(SHORT_S * 1e6)
    # Exactly half the rounds are short: a short one counted as lost (a
    # switch-in the kernel did not report) makes the median a long one.
    if (histogram.off_cpu[short] + histogram.off_cpu[short + 1]) * 2 >= chain.count:
        assert within_bucket_or_next(row.p50_us, short), (row.p50_us, histogram.off_cpu)
    long = bucket_of(LONG_S * 1e6)
    if (histogram.off_cpu[long] + histogram.off_cpu[long + 1]) * 10 >= chain.count * 9:
        assert within_bucket_or_next(row.p90_us, long), (row.p90_us, histogram.off_cpu)
    assert row.p90_us <= row.p99_us <= row.max_us
    for column, percent in (("p50_us", 50), ("p90_us", 90), ("p99_us", 99)):
        assert row[column] == pytest.approx(chain.percentile_us(percent))
    for column, percent in (("runqueue_p50_us", 50), ("runqueue_p90_us", 90), ("runqueue_p99_us", 99),
                            ("runqueue_max_us", 100)):
        assert row[column] == pytest.approx(chain.percentile_us(percent, runqueue=True))
    assert row.runqueue_p50_us <= row.runqueue_p99_us <= row.runqueue_max_us
    # The runqueue waits' estimate stays within the bucket of the longest one.
    longest = max(i for i, n in enumerate(chain.histogram.runqueue) if n)
    assert bucket_of(row.runqueue_max_us) in (longest, longest + 1)


def test_text_shows_the_histograms_under_the_chain(histogram_run):
    profile, chain, _ = histogram_run
    text = profile.text()
    assert "off-CPU usecs : count    distribution" in text
    assert "runqueue usecs : count    distribution" in text
    low, high = chain.histogram.bounds_us[bucket_of(LONG_S * 1e6)]
    assert f"{low} -> {high - 1}" in text


def test_without_histograms_the_columns_are_empty():
    require_root()
    work = PipeTokenPass(3, 0.002)
    with waketrace.Profiler(tids=[work.reader.tid]) as profiler:
        work.run()
    profile = profiler.results()
    assert profile.chains, describe(profile)
    frame = profile.to_dataframe()
    assert frame.p50_us.map(math.isnan).all()
    for chain in profile.chains:
        assert chain.histogram.count == 0
        assert chain.percentile_us(50) is None
    assert "usecs" not in profile.text()
