// SPDX-License-Identifier: LGPL-2.1-or-later
#include "baton.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace waketrace::test {
namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Retried on EINTR: a profiler's signals must not end a wait early.
void read_exactly(int fd, void* buffer, size_t size) {
    ssize_t done;
    while ((done = read(fd, buffer, size)) < 0 && errno == EINTR) {
    }
    if (done != ssize_t(size))
        fail("baton read");
}

void write_exactly(int fd, const void* buffer, size_t size) {
    ssize_t done;
    while ((done = write(fd, buffer, size)) < 0 && errno == EINTR) {
    }
    if (done != ssize_t(size))
        fail("baton write");
}

}  // namespace

std::string_view to_string(BatonChannel channel) {
    switch (channel) {
    case BatonChannel::pipe: return "pipe";
    case BatonChannel::cond: return "cond";
    case BatonChannel::eventfd: return "eventfd";
    }
    return "unknown";
}

BatonChannel baton_channel_named(std::string_view name) {
    for (BatonChannel channel : {BatonChannel::pipe, BatonChannel::cond, BatonChannel::eventfd})
        if (name == to_string(channel))
            return channel;
    throw std::invalid_argument("no channel named " + std::string(name) + " (pipe, cond, eventfd)");
}

BatonPath kernel_path_of(BatonChannel channel) {
    switch (channel) {
    // anon_pipe_* on recent kernels, pipe_* before 6.13 or so: both match.
    case BatonChannel::pipe: return {"pipe_write", "pipe_read"};
    // pthread_cond_signal wakes through FUTEX_WAKE; the waiter sleeps in futex_wait.
    case BatonChannel::cond: return {"futex_wake", "futex_wait"};
    case BatonChannel::eventfd: return {"eventfd_write", "eventfd_read"};
    }
    return {};
}

Baton::Baton(BatonChannel channel) : channel_(channel) {
    if (channel == BatonChannel::pipe) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            fail("pipe2");
        read_end_.reset(fds[0]);
        write_end_.reset(fds[1]);
    } else if (channel == BatonChannel::eventfd) {
        // A semaphore: each read takes one pass, even if two are waiting.
        read_end_.reset(eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC));
        if (!read_end_)
            fail("eventfd");
    }
}

// Out of line and not inlined, so user stacks name them.
__attribute__((noinline)) void Baton::pass() {
    switch (channel_) {
    case BatonChannel::pipe: {
        const char byte = 'b';
        write_exactly(write_end_.get(), &byte, 1);
        break;
    }
    case BatonChannel::cond: {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++passed_;
        }
        // Signalled after unlocking, so the woken taker does not go on to
        // block again on the mutex its passer still holds.
        passed_cv_.notify_one();
        break;
    }
    case BatonChannel::eventfd: {
        const uint64_t one = 1;
        write_exactly(read_end_.get(), &one, sizeof(one));
        break;
    }
    }
}

__attribute__((noinline)) void Baton::take() {
    switch (channel_) {
    case BatonChannel::pipe: {
        char byte;
        read_exactly(read_end_.get(), &byte, 1);
        break;
    }
    case BatonChannel::cond: {
        std::unique_lock<std::mutex> lock(mutex_);
        passed_cv_.wait(lock, [this] { return passed_ > taken_; });
        ++taken_;
        break;
    }
    case BatonChannel::eventfd: {
        uint64_t count;
        read_exactly(read_end_.get(), &count, sizeof(count));
        break;
    }
    }
}

}  // namespace waketrace::test
