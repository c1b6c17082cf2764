// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Files (and processes) that could not be read, counted and explained once.
// A file that cannot be read leaves its frames unresolved; when the cause is
// a lack of resources (no fd left, no memory) the user can act on it, so the
// first failure of each such cause is a warning that says what to raise, and
// the rest are debug messages.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

#include "waketrace/config.hpp"

namespace waketrace::detail {

class UnreadableFiles {
public:
    using Log = std::function<void(LogLevel, std::string_view)>;

    explicit UnreadableFiles(Log log) : log_(std::move(log)) {}
    UnreadableFiles(const UnreadableFiles&) = delete;
    UnreadableFiles& operator=(const UnreadableFiles&) = delete;

    // Counts one unreadable file; `message` says which and why. Thread-safe.
    void report(int errno_value, std::string_view message);
    size_t count() const { return count_.load(); }

    // Causes that pass (EMFILE, ENFILE, ENOMEM): what failed for one of them
    // is worth trying again later rather than giving up on for good.
    static bool is_shortage(int errno_value);

    // The log this was made with, for messages of the same reader that are
    // not about unreadable files. Safe to call from any thread.
    void log(LogLevel level, std::string_view message) const {
        if (log_)
            log_(level, message);
    }

private:
    Log log_;
    std::atomic<size_t> count_{0};
    std::mutex mutex_;
    std::set<int> warned_;  // errno values already logged as warnings
};

}  // namespace waketrace::detail
