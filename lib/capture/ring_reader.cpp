// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/ring_reader.hpp"

#include <bpf/libbpf.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>

#include "support/left_out_thread.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {
namespace {
// How long records the program did not wake us for may wait in the ring.
constexpr int kPollTimeoutMs = 50;
}  // namespace

void RingReader::RingBufferDeleter::operator()(ring_buffer* rb) const noexcept { ring_buffer__free(rb); }

RingReader::RingReader(int ring_buffer_fd, OnRecord on_record, OnStart on_start, OnBatchEnd on_batch_end)
    : ring_fd_(ring_buffer_fd), on_record_(std::move(on_record)), on_batch_end_(std::move(on_batch_end)) {
    ring_.reset(ring_buffer__new(ring_buffer_fd, &RingReader::handle_record, this, nullptr));
    if (!ring_) {
        const int err = errno;  // before anything else can change it
        throw Error(err, "opening a BPF ring buffer failed");
    }
    wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_) {
        const int err = errno;
        throw Error(err, "creating an eventfd for a BPF ring buffer reader failed");
    }
    thread_ = start_left_out_thread(std::move(on_start), [this] { run(); });
}

RingReader::~RingReader() {
    stopping_ = true;
    wake();
    thread_.join();
    ring_buffer__consume(ring_.get());  // whatever arrived after the last read
    end_batch();
}

void RingReader::catch_up() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t request = ++requested_;
    wake();
    caught_up_.wait(lock, [&] { return served_ >= request || thread_done_; });
}

void RingReader::wake() noexcept {
    const uint64_t one = 1;
    // Fails only when the counter is about to overflow: it is readable then.
    (void)!write(wake_fd_.get(), &one, sizeof(one));
}

void RingReader::end_batch() noexcept {
    if (!on_batch_end_)
        return;
    try {
        on_batch_end_();
    } catch (...) {
        // As for a record: the handler counts what that costs.
    }
}

// Called by libbpf (C): nothing may be thrown through it.
int RingReader::handle_record(void* self, void* data, size_t size) noexcept {
    try {
        static_cast<RingReader*>(self)->on_record_(data, size);
    } catch (...) {
        // One record is lost; the handlers count what that costs.
    }
    return 0;
}

// Sleeps until the program wakes us (a batch of records is waiting), a
// catch-up or the end is asked for, or the timeout passes; then reads
// everything committed so far. Polling the map fd itself (not through
// ring_buffer__poll's epoll) lets the eventfd wake us too.
void RingReader::run() {
    while (!stopping_) {
        pollfd fds[] = {{ring_fd_, POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
        if (poll(fds, 2, kPollTimeoutMs) < 0 && errno != EINTR)
            break;
        uint64_t wakes = 0;
        (void)!read(wake_fd_.get(), &wakes, sizeof(wakes));  // EAGAIN when not woken
        uint64_t request = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            request = requested_;  // served by the read below, which starts after it
        }
        if (ring_buffer__consume(ring_.get()) < 0)
            break;
        end_batch();
        finish(request);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    thread_done_ = true;
    caught_up_.notify_all();
}

void RingReader::finish(uint64_t request) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    served_ = request;
    caught_up_.notify_all();
}

}  // namespace waketrace::detail
