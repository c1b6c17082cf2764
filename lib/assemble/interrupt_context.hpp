// SPDX-License-Identifier: LGPL-2.1-or-later
// Which kind of interrupt a waking ran in, told from its kernel stack. The
// BPF program flags wakings that ran off the task's own stack, but an
// interrupt taken in user mode runs on the task stack, and softirq work done
// in a task (local_bh_enable, ksoftirqd) does too: the stack tells them all.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "waketrace/profile.hpp"

namespace waketrace::detail {

struct InterruptEntry {
    WakerContext context;  // hardirq, softirq or nmi
    size_t frame_index;    // the entry frame in the stack
};

// Reads the frames from the wake point outward; the first interrupt entry met
// is the innermost context (an NMI inside a softirq is an NMI).
std::optional<InterruptEntry> innermost_interrupt(const std::vector<Frame>& kernel_frames);

// A waker that ran in an interrupt did not cause the waking: it becomes a
// hardirq, softirq or nmi waker without task identity or user stack, and its
// kernel stack ends at the interrupt entry (what was interrupted is chance).
void settle_waker_context(Waker& waker);

}  // namespace waketrace::detail
