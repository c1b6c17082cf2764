// Listens for the program's "new process seen" events on a background thread,
// so a process's memory map is read while it is still alive: a process that
// exits before the profile is read is still named.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

struct ring_buffer;

namespace waketrace::detail {

class ProcessWatcher {
public:
    using OnProcess = std::function<void(uint32_t tgid)>;

    // Starts the thread. Throws Error if the ring buffer cannot be opened.
    ProcessWatcher(int ring_buffer_fd, OnProcess on_process);
    // Drains pending events, then joins.
    ~ProcessWatcher();
    ProcessWatcher(const ProcessWatcher&) = delete;
    ProcessWatcher& operator=(const ProcessWatcher&) = delete;

private:
    static int handle_event(void* self, void* data, size_t size) noexcept;
    void run();

    struct RingBufferDeleter {
        void operator()(ring_buffer* rb) const noexcept;
    };
    std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;
    OnProcess on_process_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace waketrace::detail
