// SPDX-License-Identifier: LGPL-2.1-or-later
#include "baton.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
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
    case BatonChannel::futex: return "futex";
    case BatonChannel::eventfd: return "eventfd";
    }
    return "unknown";
}

BatonChannel baton_channel_named(std::string_view name) {
    for (BatonChannel channel : {BatonChannel::pipe, BatonChannel::futex, BatonChannel::eventfd})
        if (name == to_string(channel))
            return channel;
    throw std::invalid_argument("no channel named " + std::string(name) + " (pipe, futex, eventfd)");
}

BatonPath kernel_path_of(BatonChannel channel) {
    switch (channel) {
    // anon_pipe_* on recent kernels, pipe_* before 6.13 or so: both match.
    case BatonChannel::pipe: return {"pipe_write", "pipe_read"};
    case BatonChannel::futex: return {"futex_wake", "futex_wait"};
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
    case BatonChannel::futex:
        passed_.fetch_add(1);
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&passed_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
        break;
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
    case BatonChannel::futex: {
        // Sleeps while the word still says no pass is waiting (the kernel
        // checks it against taken_ under its own lock, so no pass is missed).
        uint32_t passed;
        while ((passed = passed_.load()) == taken_)
            syscall(SYS_futex, reinterpret_cast<uint32_t*>(&passed_), FUTEX_WAIT_PRIVATE, taken_, nullptr,
                    nullptr, 0);
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
