// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A one-way hand-off between two threads, through one of the kernel paths a
// wake chain can run through: a pipe, a futex or an eventfd. pass() never
// blocks; take() blocks until a pass it has not taken, so the taker's waker
// is the passer, in that channel's kernel path.
//
// The futex channel is a bare futex word, not a pthread condition variable:
// a waiter woken from pthread_cond_wait may block once more on the condition
// variable's internal lock, which its signaller still holds, and then its
// last wait (the one a chain through it follows) is that short one, ended by
// a waker that was running: the chain rightly stops there, but it is not the
// relay's.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "support/unique_fd.hpp"

namespace waketrace::test {

enum class BatonChannel { pipe, futex, eventfd };

std::string_view to_string(BatonChannel channel);
// "pipe", "futex" or "eventfd"; throws std::invalid_argument otherwise.
BatonChannel baton_channel_named(std::string_view name);

// The kernel functions a chain through `channel` shows: the passer's wake
// path and the taker's blocked path (substrings of frame names).
struct BatonPath {
    std::string_view waking;
    std::string_view blocked;
};
BatonPath kernel_path_of(BatonChannel channel);

class Baton {
public:
    explicit Baton(BatonChannel channel);
    Baton(const Baton&) = delete;
    Baton& operator=(const Baton&) = delete;

    void pass();
    void take();
    // The pipe's write end (pipe channel only), for a passer in a forked
    // child: one byte written there is one pass.
    int pipe_write_fd() const { return write_end_.get(); }

private:
    BatonChannel channel_;
    detail::UniqueFd read_end_;        // pipe: read end; eventfd: the eventfd
    detail::UniqueFd write_end_;       // pipe only
    std::atomic<uint32_t> passed_{0};  // futex only: the futex word
    uint32_t taken_ = 0;               // futex only, by the taker
};

}  // namespace waketrace::test
