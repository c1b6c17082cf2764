// SPDX-License-Identifier: LGPL-2.1-or-later
// Config::events: the ring buffer that carries every off-CPU period
// (wt_off_cpu_event) to user space, read by the caller's own thread rather
// than a library thread. A reader that stops reading leaves the ring full,
// and the program counts the events it cannot send (WT_DROP_OFF_CPU_EVENT):
// the traced system never waits, and nothing piles up in user space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "waketrace/config.hpp"
#include "waketrace_abi.h"

struct ring_buffer;

namespace waketrace::detail {

// The ring's size: Config::events_ring_bytes when set; else room for
// kDefaultEvents events per CPU; one page when events are off.
uint32_t off_cpu_event_ring_bytes(const Config& config);
// The program wakes the reader once this many bytes wait.
uint64_t off_cpu_event_wakeup_bytes(uint32_t ring_bytes);

class OffCpuEventRing {
public:
    // Throws Error when libbpf cannot map the ring.
    explicit OffCpuEventRing(int ring_fd);
    ~OffCpuEventRing();
    OffCpuEventRing(const OffCpuEventRing&) = delete;
    OffCpuEventRing& operator=(const OffCpuEventRing&) = delete;

    // Appends up to `max` events (at most 65,536) to `out`, oldest first. When none waits,
    // waits up to `timeout_ms` (0: not at all, -1: for ever) for the first
    // ones. The program wakes readers only per batch, so a wait looks at
    // the ring every kPollSliceMs too: an event waits at most that long.
    // Returns how many were appended. Throws Error on a failed poll (EINTR
    // ends the wait early instead, returning what there is).
    size_t read(std::vector<wt_off_cpu_event>& out, size_t max, int timeout_ms);
    // Readable (POLLIN) when a batch of events waits: for an event loop,
    // which should still read every kPollSliceMs or so.
    int poll_fd() const;

    static constexpr int kPollSliceMs = 50;

private:
    static int take_record(void* self, void* data, size_t size) noexcept;
    size_t consume(std::vector<wt_off_cpu_event>& out, size_t max);

    struct RingBufferDeleter {
        void operator()(ring_buffer* rb) const noexcept;
    };
    std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
    // Where take_record() puts records during one consume().
    std::vector<wt_off_cpu_event>* batch_ = nullptr;
    size_t batch_room_ = 0;
};

}  // namespace waketrace::detail
