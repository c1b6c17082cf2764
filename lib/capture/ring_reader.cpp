#include "capture/process_watcher.hpp"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>

#include "waketrace/profiler.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {
namespace {
// How long stop() may wait for the thread to notice it should end.
constexpr int kPollTimeoutMs = 50;
}  // namespace

void ProcessWatcher::RingBufferDeleter::operator()(ring_buffer* rb) const noexcept {
    ring_buffer__free(rb);
}

ProcessWatcher::ProcessWatcher(int ring_buffer_fd, OnProcess on_process)
    : on_process_(std::move(on_process)) {
    ring_.reset(ring_buffer__new(ring_buffer_fd, &ProcessWatcher::handle_event, this, nullptr));
    if (!ring_)
        throw Error(errno, fmt::format("opening the process event ring buffer failed (errno {})", errno));
    thread_ = std::thread([this] { run(); });
}

ProcessWatcher::~ProcessWatcher() {
    stopping_ = true;
    thread_.join();
    ring_buffer__consume(ring_.get());  // whatever arrived after the last poll
}

// Called by libbpf (C): nothing may be thrown through it.
int ProcessWatcher::handle_event(void* self, void* data, size_t size) noexcept {
    if (size < sizeof(wt_process_event))
        return 0;
    try {
        static_cast<ProcessWatcher*>(self)->on_process_(static_cast<const wt_process_event*>(data)->tgid);
    } catch (...) {
        // Symbols of this process will be looked up late instead; not fatal.
    }
    return 0;
}

void ProcessWatcher::run() {
    while (!stopping_) {
        const int err = ring_buffer__poll(ring_.get(), kPollTimeoutMs);
        if (err < 0 && err != -EINTR)
            break;
    }
}

}  // namespace waketrace::detail
