// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A one-way hand-off between two threads, through one of the kernel paths a
// wake chain can run through: a pipe, a condition variable (futex) or an
// eventfd. pass() never blocks; take() blocks until a pass it has not taken,
// so the taker's waker is the passer, in that channel's kernel path.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "support/unique_fd.hpp"

namespace waketrace::test {

enum class BatonChannel { pipe, cond, eventfd };

std::string_view to_string(BatonChannel channel);
// "pipe", "cond" or "eventfd"; throws std::invalid_argument otherwise.
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
    detail::UniqueFd read_end_;   // pipe: read end; eventfd: the eventfd
    detail::UniqueFd write_end_;  // pipe only
    std::mutex mutex_;            // cond only, with the two counters
    std::condition_variable passed_cv_;
    uint64_t passed_ = 0;
    uint64_t taken_ = 0;
};

}  // namespace waketrace::test
