// SPDX-License-Identifier: LGPL-2.1-or-later
// Reads one of the program's BPF ring buffers on a background thread, so
// what the kernel sends is handled while the profile runs: new processes
// have their memory maps read while they are still alive, and --dwarf
// mode's user stack snapshots are unwound while the process is there.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "support/left_out_thread.hpp"
#include "support/unique_fd.hpp"

struct ring_buffer;

namespace waketrace::detail {

class RingReader {
public:
    // Called on the reader thread for each record; what it throws is
    // swallowed (one record is lost, not the reader).
    using OnRecord = std::function<void(const void* data, size_t size)>;

    // Called first on the new thread with its tid (the profiler leaves its
    // own threads out of the targets); the constructor returns after it.
    using OnStart = std::function<void(uint32_t tid)>;

    // Called on the reader thread after each read of the ring, once the
    // records it found have been handled: work that a batch of records
    // needs once, not once per record. What it throws is swallowed.
    using OnBatchEnd = std::function<void()>;

    // Starts the thread. Throws Error if the ring buffer cannot be opened.
    RingReader(int ring_buffer_fd, OnRecord on_record, OnStart on_start = {}, OnBatchEnd on_batch_end = {});
    // Handles what is still pending, then joins.
    ~RingReader();
    RingReader(const RingReader&) = delete;
    RingReader& operator=(const RingReader&) = delete;

    // Returns once every record committed to the ring before the call has
    // been handled. A program that wakes the reader only in batches
    // (--dwarf) may leave records waiting for the next poll timeout; a
    // results() or drain() while running must see them now.
    void catch_up();

private:
    static int handle_record(void* self, void* data, size_t size) noexcept;
    void run();
    void wake() noexcept;
    void finish(uint64_t request) noexcept;
    void end_batch() noexcept;

    struct RingBufferDeleter {
        void operator()(ring_buffer* rb) const noexcept;
    };
    std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
    int ring_fd_;       // the map's, borrowed
    UniqueFd wake_fd_;  // an eventfd: stop, or catch up, now
    OnRecord on_record_;
    OnBatchEnd on_batch_end_;
    std::atomic<bool> stopping_{false};

    std::mutex mutex_;  // guards the three below
    std::condition_variable caught_up_;
    uint64_t requested_ = 0;  // catch-up requests made
    uint64_t served_ = 0;     // requests a finished read began after
    bool thread_done_ = false;

    LibraryThread thread_;
};

}  // namespace waketrace::detail
