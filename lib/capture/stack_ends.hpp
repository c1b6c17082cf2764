// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode: tells the program where threads' stacks end (the stack_tops
// map), so that it copies a thread's stack only down from there.
#pragma once

#include <cstdint>

#include "support/unique_fd.hpp"

namespace waketrace::detail {

class StackEnds {
public:
    // Holds its own descriptor of the map: usable while the capture that
    // made it is replaced.
    explicit StackEnds(int map_fd);

    // Thread `tid`, started at `thread_start_ns` (the task's start_time),
    // has its stack end at user address `end`. False when the map had no
    // room (the thread keeps whole copies) or the call failed.
    bool set(uint32_t tid, uint64_t thread_start_ns, uint64_t end) const noexcept;

private:
    UniqueFd map_;
};

}  // namespace waketrace::detail
