// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/off_cpu_event_ring.hpp"

#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "waketrace/error.hpp"

namespace waketrace::detail {
namespace {

// Events the default ring holds per CPU while the reader is away: a 50 ms
// poll slice of a CPU switching 300,000 times a second, with room to spare.
constexpr uint64_t kDefaultEventsPerCpu = 32768;
constexpr uint64_t kMaxDefaultRingBytes = uint64_t(64) << 20;
constexpr uint64_t kRecordHeaderBytes = 8;  // BPF_RINGBUF_HDR_SZ
// take_record() returns this to stop libbpf once a batch is full; the
// record it was given has been taken (libbpf moves past it first).
constexpr int kBatchFull = -1;
// The most one read takes: the batch's room is reserved up front (the
// callback may not allocate), so a caller's huge `max` must not reserve
// gigabytes.
constexpr size_t kMostPerRead = size_t(1) << 16;

}  // namespace

uint32_t off_cpu_event_ring_bytes(const Config& config) {
    const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    if (!config.events)
        return uint32_t(page);  // unused, but a map needs a size
    if (config.events_ring_bytes)
        return config.events_ring_bytes;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    const uint64_t cpus = online > 0 ? uint64_t(online) : 1;
    const uint64_t wanted = kDefaultEventsPerCpu * cpus * (kRecordHeaderBytes + sizeof(wt_off_cpu_event));
    uint64_t size = page;
    while (size < wanted && size < kMaxDefaultRingBytes)
        size *= 2;
    return uint32_t(size);
}

uint64_t off_cpu_event_wakeup_bytes(uint32_t ring_bytes) {
    // A wake-up per 64 KiB (about 500 events) at most: each costs the
    // traced CPU an interrupt, and the poll slice picks up the rest.
    return std::min<uint64_t>(ring_bytes / 8, uint64_t(64) << 10);
}

void OffCpuEventRing::RingBufferDeleter::operator()(ring_buffer* rb) const noexcept { ring_buffer__free(rb); }

OffCpuEventRing::OffCpuEventRing(int ring_fd) {
    ring_.reset(ring_buffer__new(ring_fd, &OffCpuEventRing::take_record, this, nullptr));
    if (!ring_)
        throw Error(errno ? errno : ENOMEM,
                    std::string("opening the off-CPU event ring buffer failed: ") + std::strerror(errno));
}

OffCpuEventRing::~OffCpuEventRing() = default;

int OffCpuEventRing::poll_fd() const { return ring_buffer__epoll_fd(ring_.get()); }

int OffCpuEventRing::take_record(void* self, void* data, size_t size) noexcept {
    auto& ring = *static_cast<OffCpuEventRing*>(self);
    if (size < sizeof(wt_off_cpu_event))
        return 0;  // not ours to read; skipped
    wt_off_cpu_event event;
    std::memcpy(&event, data, sizeof(event));
    ring.batch_->push_back(event);  // reserved: cannot throw
    return --ring.batch_room_ == 0 ? kBatchFull : 0;
}

size_t OffCpuEventRing::consume(std::vector<wt_off_cpu_event>& out, size_t max) {
    max = std::min(max, kMostPerRead);
    const size_t before = out.size();
    out.reserve(before + max);
    batch_ = &out;
    batch_room_ = max;
    ring_buffer__consume(ring_.get());  // a negative return is kBatchFull
    batch_ = nullptr;
    return out.size() - before;
}

size_t OffCpuEventRing::read(std::vector<wt_off_cpu_event>& out, size_t max, int timeout_ms) {
    if (max == 0)
        return 0;
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
    for (;;) {
        if (const size_t taken = consume(out, max))
            return taken;
        int slice = kPollSliceMs;
        if (timeout_ms >= 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0)
                return 0;
            slice = int(std::min<long long>(slice, left));
        }
        // A wake-up (a batch waits) or the slice's end, whichever comes
        // first; the records are taken by consume() above.
        epoll_event ready{};
        if (epoll_wait(poll_fd(), &ready, 1, slice) < 0) {
            if (errno == EINTR)
                return consume(out, max);
            throw Error(errno, std::string("waiting for off-CPU events failed: ") + std::strerror(errno));
        }
    }
}

}  // namespace waketrace::detail
