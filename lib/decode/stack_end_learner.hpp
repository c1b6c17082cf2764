// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode: what to tell the program about where each thread's stack
// ends, from the unwinds of its snapshots. The program copies a thread's
// stack only from the stack pointer up to its end once told, so an end told
// too low would cut every later stack of the thread short: ends only rise,
// and a thread whose copy, cut at its end, still left the unwind wanting
// more is given up on (whole copies from then on).
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace waketrace::detail {

class StackEndLearner {
public:
    struct Unwound {
        uint32_t tid = 0;
        uint64_t thread_start_ns = 0;  // the task's start time: tells a reused tid apart
        uint64_t stack_address = 0;    // the snapshot's rsp
        uint64_t stack_size = 0;       // bytes copied
        uint64_t end_found = 0;        // UserStackUnwinder::stack_end_found()
        bool read_past_copy = false;   // UserStackUnwinder::read_past_copy()
    };

    // The end to tell the program for the snapshot's thread: an address, or
    // 0 for "copy whole" (the thread given up on); nullopt when nothing
    // changes.
    std::optional<uint64_t> on_unwind(const Unwound& unwound);

    size_t threads_known() const noexcept { return known_.size(); }

private:
    struct Known {
        uint64_t thread_start_ns;
        uint64_t end;  // 0 once given up on
    };
    // Bounds what is kept of exited threads; telling an end again costs one
    // map update.
    static constexpr size_t kMaxThreads = 65536;

    std::unordered_map<uint32_t, Known> known_;  // by tid
};

}  // namespace waketrace::detail
