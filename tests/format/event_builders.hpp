// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Hand-made off-CPU events (waketrace/events.hpp) for the Perfetto writer's
// tests and its sample program: two threads passing a token through a pipe,
// and a worker that is preempted, woken by a timer interrupt and woken by a
// kernel thread the filters leave out; with the stack table they name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <waketrace/events.hpp>

namespace waketrace::test {

// Ping (tid 100, the process's main thread) and pong (101) of process 100,
// and the worker (200, process 200); the kworker (7) is outside the filters.
inline const Task kPing{100, 100, "ping"};
inline const Task kPong{101, 100, "pong"};
inline const Task kWorker{200, 200, "worker"};
inline const Task kKworker{7, 7, "kworker/0:1"};

// Stack ids: kernel stacks (tgid 0) below 10, user stacks from 10.
enum EventStack : StackId {
    kPipeReadKernel = 1,
    kPipeWriteKernel = 2,
    kNanosleepKernel = 3,
    kTimerKernel = 4,
    kIoWaitKernel = 5,
    kKworkerKernel = 6,
    kPingReadUser = 10,
    kPongReadUser = 11,
    kPingWriteUser = 12,
    kPongWriteUser = 13,
};

// The frames of each stack, innermost first, as a symbolizer would give
// them: (id, tgid, kernel) -> symbols.
inline std::vector<Frame> event_stack_frames(StackId id, uint32_t tgid, bool kernel) {
    static const std::map<std::tuple<StackId, uint32_t, bool>, std::vector<const char*>> stacks = {
        {{kPipeReadKernel, 0, true}, {"__schedule", "schedule", "pipe_read", "vfs_read", "ksys_read"}},
        {{kPipeWriteKernel, 0, true}, {"try_to_wake_up", "__wake_up_common", "pipe_write", "vfs_write"}},
        {{kNanosleepKernel, 0, true}, {"__schedule", "schedule", "do_nanosleep", "hrtimer_nanosleep"}},
        {{kTimerKernel, 0, true},
         {"try_to_wake_up", "hrtimer_wakeup", "__hrtimer_run_queues", "hrtimer_interrupt"}},
        {{kIoWaitKernel, 0, true}, {"__schedule", "schedule", "io_schedule", "folio_wait_bit_common"}},
        {{kKworkerKernel, 0, true},
         {"try_to_wake_up", "folio_wake_bit", "end_page_writeback", "worker_thread"}},
        {{kPingReadUser, 100, false}, {"read", "ping_loop", "main"}},
        {{kPongReadUser, 100, false}, {"read", "pong_loop", "start_thread"}},
        {{kPingWriteUser, 100, false}, {"write", "ping_loop", "main"}},
        {{kPongWriteUser, 100, false}, {"write", "pong_loop", "start_thread"}},
    };
    std::vector<Frame> frames;
    auto found = stacks.find({id, tgid, kernel});
    if (found == stacks.end())
        return frames;
    uint64_t address = kernel ? 0xffffffff81000000 : 0x401000;
    for (const char* symbol : found->second) {
        Frame frame;
        frame.address = address += 0x40;
        frame.symbol = symbol;
        frame.module = kernel ? "[kernel]" : "/usr/bin/pingpong";
        if (!kernel) {
            frame.file_offset = frame.address - 0x400000;
            frame.build_id = "0123456789abcdef";
        }
        frames.push_back(frame);
    }
    return frames;
}

// A pipe ping-pong of `rounds` off-CPU periods from `start_ns`, every
// 15 us one thread taking over from the other: each period is 13 us
// blocked in read() until the other thread's write() wakes it, then 5 us
// runnable; each thread runs 12 us between its periods. Period k belongs
// to ping when k is even.
inline std::vector<OffCpuEvent> ping_pong_events(size_t rounds, uint64_t start_ns = 1'000'000'000) {
    std::vector<OffCpuEvent> events;
    for (size_t k = 0; k < rounds; ++k) {
        const bool ping = k % 2 == 0;
        const uint64_t turn = start_ns + k * 15'000;  // the target switched in at this time
        OffCpuEvent event;
        event.target = ping ? kPing : kPong;
        event.switch_out_ns = turn + 12'000;
        event.waking_ns = turn + 25'000;
        event.switch_in_ns = turn + 30'000;
        event.state = 1;
        event.waker = ping ? kPong : kPing;
        event.target_kernel_stack = kPipeReadKernel;
        event.target_user_stack = ping ? kPingReadUser : kPongReadUser;
        event.waker_kernel_stack = kPipeWriteKernel;
        event.waker_user_stack = ping ? kPongWriteUser : kPingWriteUser;
        events.push_back(event);
    }
    return events;
}

// The worker's three periods after `start_ns`: preempted for 50 us; asleep
// in nanosleep until a timer interrupt wakes it (its user stack not
// captured: the name must come from the kernel's); and in D state waiting
// for a page, woken by a kworker the filters leave out (its user stack a
// capture error).
inline std::vector<OffCpuEvent> worker_events(uint64_t start_ns = 1'000'000'000) {
    OffCpuEvent preempted;
    preempted.target = kWorker;
    preempted.switch_out_ns = start_ns + 10'000;
    preempted.switch_in_ns = start_ns + 60'000;
    preempted.state = 0;
    preempted.waker_context = WakerContext::preempted;
    preempted.waker = Task{};
    preempted.target_kernel_stack = -1000;
    preempted.target_user_stack = -1000;

    OffCpuEvent timer;
    timer.target = kWorker;
    timer.switch_out_ns = start_ns + 70'000;
    timer.waking_ns = start_ns + 170'000;
    timer.switch_in_ns = start_ns + 172'000;
    timer.state = 1;
    timer.waker_context = WakerContext::hardirq;
    timer.waker = Task{};
    timer.target_kernel_stack = kNanosleepKernel;
    timer.target_user_stack = -1000;
    timer.waker_kernel_stack = kTimerKernel;
    timer.waker_user_stack = -1001;

    OffCpuEvent io;
    io.target = kWorker;
    io.switch_out_ns = start_ns + 180'000;
    io.waking_ns = start_ns + 380'000;
    io.switch_in_ns = start_ns + 381'000;
    io.state = 2;
    io.waker = kKworker;
    io.waker_outside_filters = true;
    io.target_kernel_stack = kIoWaitKernel;
    io.target_user_stack = -14;
    io.waker_kernel_stack = kKworkerKernel;
    io.waker_user_stack = -1000;
    return {preempted, timer, io};
}

// The batch the writer's tests use: `rounds` of ping-pong and the worker's
// periods, in no particular order (the worker's first).
inline std::vector<OffCpuEvent> sample_events(size_t rounds = 6) {
    std::vector<OffCpuEvent> events = worker_events();
    for (OffCpuEvent& event : ping_pong_events(rounds))
        events.push_back(event);
    return events;
}

}  // namespace waketrace::test
