// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Off-CPU events (waketrace/events.hpp) as a Perfetto trace, for
// ui.perfetto.dev and trace processor: a timeline per thread of when it
// ran, blocked and waited in the run queue, with an arrow from each waker
// to the thread it woke. Internal to the library (not installed), like
// format.hpp; pure, as every format is: it reads its arguments, touches no
// global state and may be called from any thread at once.
//
//     waketrace::detail::EventTrace trace;
//     trace.events = std::move(batch);
//     trace.frames = [&](StackId id, uint32_t tgid, bool kernel) { return names.frames(id, tgid, kernel); };
//     trace.realtime_offset_ns = waketrace::realtime_offset_ns();
//     std::string bytes = waketrace::detail::format_perfetto_trace(trace);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "waketrace/events.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

struct EventTrace {
    // Any order; CLOCK_MONOTONIC nanoseconds. One thread's periods should
    // not overlap; where they do, a later one is cut to start where the
    // earlier ended, so the thread's slices still follow one another.
    std::vector<OffCpuEvent> events;
    // The frames of a stack of an event, innermost first (Frame::symbol
    // empty: unresolved): `id` >= 0 (ids < 0 are never asked for), the
    // process for a user stack (`tgid`; 0 for kernel stacks) and which kind
    // it is. Called once per distinct (id, tgid, kernel). An empty result,
    // or no function at all, leaves the stack out.
    std::function<std::vector<Frame>(StackId id, uint32_t tgid, bool kernel)> frames;
    // CLOCK_REALTIME - CLOCK_MONOTONIC when the events were taken
    // (realtime_offset_ns()), so the UI can show wall-clock time.
    int64_t realtime_offset_ns = 0;
};

// The events as one serialized perfetto.protos.Trace (bytes, not text):
//
// - a track per thread, under its process's, named by its last comm seen (a
//   process by that of its thread whose tid is the pid, else by the first
//   comm seen); wakers outside the filters get tracks too;
// - on it, per event, a "blocked" slice from switch-out to waking, named by
//   blocked_slice_name() and carrying the thread's stacks (kernel below
//   user) and its state ("S (sleeping)", "D (uninterruptible)" or the
//   number), then a "runnable" slice from waking to switch-in. A thread
//   switched out while runnable (state 0, or WakerContext::preempted) has
//   one "runnable (preempted)" slice instead, whatever waking was seen; a
//   blocked period without a waking (unseen waker, Config::offcpu) one
//   blocked slice to the switch-in. And a "running" slice from each
//   switch-in to the thread's next switch-out (a period the capture left
//   out, e.g. below Config::min_block_us, shows as running);
// - per waking, an instant "wakes <comm>" at waking time on the waker's
//   track, with the waker's stacks, and a flow from it to the woken
//   thread's runnable slice. Interrupt wakers have no thread: their wakings
//   are on a track per kind, "[hardirq]", "[softirq]" and "[nmi]".
//
// Stacks, names and frames are interned: each distinct one is written
// once. All packets are on one sequence, in timestamp order, timestamps
// in CLOCK_MONOTONIC, after a clock snapshot that ties it to
// CLOCK_REALTIME (and BOOTTIME, as equal to MONOTONIC). Throws only
// std::bad_alloc (and what `frames` throws).
std::string format_perfetto_trace(const EventTrace& trace);

// What a blocked slice is called: the innermost user frame's function when
// it is named; else the innermost named kernel frame that is not the
// scheduler's own (is_scheduler_frame()); else "blocked". Both stacks
// innermost first.
std::string blocked_slice_name(const std::vector<Frame>& kernel, const std::vector<Frame>& user);

// Kernel functions every blocked thread passes through on its way off the
// CPU, which say nothing about why it blocked: after leading underscores
// are dropped, those beginning with "schedule" (schedule_timeout,
// schedule_hrtimeout_range, ...), "io_schedule", "preempt_schedule",
// "finish_task_switch", "context_switch" or "switch_to" (with any
// ".isra.0"-style suffix). do_nanosleep, pipe_read, futex_wait and the
// like are kept: they name the wait.
bool is_scheduler_frame(std::string_view symbol);

}  // namespace waketrace::detail
