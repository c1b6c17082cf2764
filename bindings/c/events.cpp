// SPDX-License-Identifier: LGPL-2.1-or-later
// The C API of the event stream (WT_OPT_EVENTS): events read in batches
// into the caller's array, and their stacks named one at a time into
// malloc'd blocks.
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "last_error.hpp"
#include "profiler_handle.hpp"
#include "waketrace/c_bridge.hpp"
#include "waketrace/events.hpp"
#include "waketrace/waketrace.h"

namespace wt = waketrace;
using wt::c_api::guarded;
using wt::c_api::guarded_pointer;
using wt::c_api::started;

namespace {

// The values of the C header's WT_WAKER_* and WT_STACK_* are the enums'.
static_assert(int(wt::WakerContext::task) == WT_WAKER_TASK &&
              int(wt::WakerContext::hardirq) == WT_WAKER_HARDIRQ &&
              int(wt::WakerContext::softirq) == WT_WAKER_SOFTIRQ &&
              int(wt::WakerContext::nmi) == WT_WAKER_NMI &&
              int(wt::WakerContext::preempted) == WT_WAKER_PREEMPTED &&
              int(wt::WakerContext::unseen) == WT_WAKER_UNSEEN);
static_assert(int(wt::StackStatus::ok) == WT_STACK_OK &&
              int(wt::StackStatus::not_captured) == WT_STACK_NOT_CAPTURED &&
              int(wt::StackStatus::irq_dropped) == WT_STACK_IRQ_DROPPED &&
              int(wt::StackStatus::collision) == WT_STACK_COLLISION &&
              int(wt::StackStatus::map_full) == WT_STACK_MAP_FULL &&
              int(wt::StackStatus::error) == WT_STACK_ERROR);

// One malloc'd block: the wt_stack, its frames, then their strings.
wt_stack* pack_stack(wt::StackStatus status, int error, const std::vector<wt::Frame>& frames) {
    size_t strings = 0;
    for (const wt::Frame& frame : frames)
        strings += (frame.resolved() ? frame.symbol.size() + 1 : 0) + frame.module.size() + 1;
    const size_t frames_at =
        (sizeof(wt_stack) + alignof(wt_frame) - 1) / alignof(wt_frame) * alignof(wt_frame);
    const size_t strings_at = frames_at + frames.size() * sizeof(wt_frame);
    char* block = static_cast<char*>(std::malloc(strings_at + strings));
    if (!block)
        throw std::bad_alloc();
    auto* stack = new (block) wt_stack{};
    auto* out = reinterpret_cast<wt_frame*>(block + frames_at);
    char* text = block + strings_at;
    auto keep = [&text](const std::string& value) {
        std::memcpy(text, value.c_str(), value.size() + 1);
        const char* kept = text;
        text += value.size() + 1;
        return kept;
    };
    for (size_t i = 0; i < frames.size(); ++i) {
        const wt::Frame& frame = frames[i];
        out[i] = wt_frame{frame.address, frame.offset, frame.resolved() ? keep(frame.symbol) : nullptr,
                          keep(frame.module)};
    }
    stack->status = uint32_t(status);
    stack->error = error;
    stack->nr_frames = frames.size();
    stack->frames = frames.empty() ? nullptr : out;
    return stack;
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int wt_profiler_read_events(wt_profiler* handle, wt_event* events, size_t event_sz, size_t capacity,
                            int timeout_ms) {
    return guarded([&] {
        wt::detail::ProfilerEngine& engine = started(handle);
        if (!events)
            throw wt::Error(EINVAL, "events is NULL");
        // The struct of 0.5 is the smallest; a later, larger one gets its
        // newer fields zeroed.
        if (event_sz < sizeof(wt_event))
            throw wt::Error(EINVAL,
                            "event_sz (" + std::to_string(event_sz) + ") is smaller than struct wt_event");
        std::vector<wt::OffCpuEvent> read;
        engine.read_events(read, std::min<size_t>(capacity, INT_MAX), timeout_ms);
        char* slot = reinterpret_cast<char*>(events);
        for (const wt::OffCpuEvent& event : read) {
            std::memset(slot, 0, event_sz);
            const wt_event converted = wt::c_bridge::event_to_c(event);
            std::memcpy(slot, &converted, sizeof(converted));
            slot += event_sz;
        }
        return int(read.size());
    });
}

int wt_profiler_events_fd(const wt_profiler* handle) {
    return guarded([&] {
        const int fd = started(const_cast<wt_profiler*>(handle)).events_fd();
        if (fd < 0)
            throw wt::Error(EINVAL, "the profiler was not created with WT_OPT_EVENTS");
        return fd;
    });
}

wt_stack* wt_profiler_event_stack(wt_profiler* handle, int32_t stack_id, uint32_t tgid, int kernel) {
    return guarded_pointer([&] {
        wt::detail::ProfilerEngine& engine = started(handle);
        if (stack_id < 0)
            return pack_stack(wt::stack_status(stack_id), stack_id, {});
        const std::vector<wt::Frame> frames = engine.event_frames(stack_id, tgid, kernel != 0);
        // Every stack an event names has frames (an empty stack is stored
        // as such only when its walk failed, and then its id is negative).
        if (frames.empty())
            return pack_stack(wt::StackStatus::error, -ENOENT, {});
        return pack_stack(wt::StackStatus::ok, 0, frames);
    });
}

char* wt_profiler_perfetto_trace(wt_profiler* handle, const wt_event* events, size_t event_sz, size_t count,
                                 size_t* size) {
    return guarded_pointer([&]() -> char* {
        wt::detail::ProfilerEngine& engine = started(handle);
        if (!size)
            throw wt::Error(EINVAL, "size is NULL");
        if (count && !events)
            throw wt::Error(EINVAL, "events is NULL");
        if (event_sz < sizeof(wt_event))
            throw wt::Error(EINVAL,
                            "event_sz (" + std::to_string(event_sz) + ") is smaller than struct wt_event");
        if (engine.events_fd() < 0)
            throw wt::Error(EINVAL, "the profiler was not created with WT_OPT_EVENTS");
        std::vector<wt::OffCpuEvent> unpacked;
        unpacked.reserve(count);
        const char* slot = reinterpret_cast<const char*>(events);
        for (size_t i = 0; i < count; ++i, slot += event_sz) {
            wt_event event;
            std::memcpy(&event, slot, sizeof(event));
            unpacked.push_back(wt::c_bridge::event_from(event));
        }
        const std::string trace = engine.perfetto_trace(std::move(unpacked));
        char* bytes = static_cast<char*>(std::malloc(trace.size() + 1));
        if (!bytes)
            throw std::bad_alloc();
        std::memcpy(bytes, trace.data(), trace.size());
        bytes[trace.size()] = '\0';
        *size = trace.size();
        return bytes;
    });
}

void wt_stack_free(wt_stack* stack) { std::free(stack); }

uint32_t wt_stack_id_status(int32_t stack_id) { return uint32_t(wt::stack_status(stack_id)); }

int64_t wt_realtime_offset_ns(void) { return wt::realtime_offset_ns(); }

}  // extern "C"
#pragma GCC visibility pop
