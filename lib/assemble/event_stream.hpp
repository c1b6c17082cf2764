// SPDX-License-Identifier: LGPL-2.1-or-later
// Config::events: the off-CPU periods one by one. Reads the events' ring
// buffer in the caller's thread, turns each record into an OffCpuEvent, and
// keeps a copy of every stack an event names the first time it meets it
// (kernel stacks by id; user stacks by id and process, with the process
// image they were taken in), so that naming a stack later does not depend
// on the kernel map, the archive or the process still being there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "assemble/interrupt_context.hpp"
#include "capture/chain_growth.hpp"
#include "capture/off_cpu_event_ring.hpp"
#include "process/process_registry.hpp"
#include "symbolize/symbolizer.hpp"
#include "waketrace/events.hpp"

namespace waketrace::detail {

class EventStream {
public:
    // `growth` finds stacks in the kernel map or, once moved, in user
    // space; both it and `symbolizer` outlive the stream.
    EventStream(int ring_fd, const ChainGrowth& growth, Symbolizer& symbolizer);

    // Appends up to `max` events to `out`, oldest first, waiting up to
    // `timeout_ms` (-1: for ever) for the first (OffCpuEventRing::read).
    // One reader at a time; frames() may be called meanwhile.
    size_t read(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms);
    int poll_fd() const { return ring_.poll_fd(); }

    // The named frames of a stack an event read so far holds (innermost
    // first): `tgid` is the event's process for its user stacks, ignored
    // for kernel stacks. Empty for an id no event named, or one < 0.
    // Thread-safe.
    std::vector<Frame> frames(StackId id, uint32_t tgid, bool kernel);

    // Distinct stacks kept so far (for tests and stats).
    size_t kept_stacks() const;

    // Stacks events named that could not be kept, since the start: an id
    // found to have held two stacks (-EEXIST), or found nowhere (-ENOENT;
    // not expected, since drains forget nothing while events are on).
    // Counted in Losses::stack_collisions and stack_errors.
    struct StackLosses {
        uint64_t collisions = 0;
        uint64_t missing = 0;
    };
    StackLosses stack_losses() const;

private:
    struct KeptStack {
        std::vector<uint64_t> addresses;
        ProcessImage image;  // user stacks: the process as the event found it
        // Waker kernel stacks: where an interrupt entered, if one did
        // (named once, when first met as a waker's); frames() ends the
        // stack there, as a Profile's waker stacks end.
        std::optional<InterruptEntry> interrupt;
        bool interrupt_looked_for = false;
    };

    OffCpuEvent convert(const wt_off_cpu_event& record);
    // Keeps the stack (if new) and returns its id, or why it has none
    // (-ENOENT: named by the event but found nowhere; -EEXIST: its id has
    // held two stacks).
    StackId keep(int32_t id, uint32_t tgid, bool kernel);
    // The interrupt a waker's kernel stack entered, named the first time.
    std::optional<InterruptEntry> interrupt_in(StackId kernel_stack);

    OffCpuEventRing ring_;
    const ChainGrowth& growth_;
    Symbolizer& symbolizer_;
    std::mutex read_mutex_;  // one read() at a time
    std::vector<wt_off_cpu_event> records_;

    mutable std::mutex stacks_mutex_;  // guards the tables below
    std::unordered_map<int32_t, KeptStack> kernel_stacks_;
    std::map<std::pair<uint32_t, int32_t>, KeptStack> user_stacks_;  // by (tgid, id)
    StackLosses stack_losses_;
};

}  // namespace waketrace::detail
