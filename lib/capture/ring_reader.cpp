#include "capture/ring_reader.hpp"

#include <bpf/libbpf.h>

#include <cerrno>

#include "support/left_out_thread.hpp"
#include "waketrace/profiler.hpp"

namespace waketrace::detail {
namespace {
// How long stop() may wait for the thread to notice it should end.
constexpr int kPollTimeoutMs = 50;
}  // namespace

void RingReader::RingBufferDeleter::operator()(ring_buffer* rb) const noexcept {
    ring_buffer__free(rb);
}

RingReader::RingReader(int ring_buffer_fd, OnRecord on_record, OnStart on_start)
    : on_record_(std::move(on_record)) {
    ring_.reset(ring_buffer__new(ring_buffer_fd, &RingReader::handle_record, this, nullptr));
    if (!ring_) {
        const int err = errno;  // before anything else can change it
        throw Error(err, "opening a BPF ring buffer failed");
    }
    thread_ = start_left_out_thread(std::move(on_start), [this] { run(); });
}

RingReader::~RingReader() {
    stopping_ = true;
    thread_.join();
    ring_buffer__consume(ring_.get());  // whatever arrived after the last poll
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

void RingReader::run() {
    while (!stopping_) {
        const int err = ring_buffer__poll(ring_.get(), kPollTimeoutMs);
        if (err < 0 && err != -EINTR)
            break;
    }
}

}  // namespace waketrace::detail
