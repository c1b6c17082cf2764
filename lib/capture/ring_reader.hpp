// Reads one of the program's BPF ring buffers on a background thread, so
// what the kernel sends is handled while the profile runs: new processes
// have their memory maps read while they are still alive, and --dwarf
// mode's user stack snapshots are unwound while the process is there.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "support/left_out_thread.hpp"

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

    // Starts the thread. Throws Error if the ring buffer cannot be opened.
    RingReader(int ring_buffer_fd, OnRecord on_record, OnStart on_start = {});
    // Handles what is still pending, then joins.
    ~RingReader();
    RingReader(const RingReader&) = delete;
    RingReader& operator=(const RingReader&) = delete;

private:
    static int handle_record(void* self, void* data, size_t size) noexcept;
    void run();

    struct RingBufferDeleter {
        void operator()(ring_buffer* rb) const noexcept;
    };
    std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
    OnRecord on_record_;
    std::atomic<bool> stopping_{false};
    LibraryThread thread_;
};

}  // namespace waketrace::detail
