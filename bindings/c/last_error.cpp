// SPDX-License-Identifier: LGPL-2.1-or-later
#include "last_error.hpp"

#include <utility>

namespace waketrace::c_api {
namespace {
thread_local std::string last_error;
}  // namespace

void set_last_error(int errno_value, std::string message) noexcept {
    try {
        last_error = std::move(message);
        if (last_error.empty())
            last_error = "error " + std::to_string(errno_value);
    } catch (...) {
        last_error.clear();  // out of memory while reporting: the errno still says it
    }
}

std::string c_message(const Error& error) {
    std::string text = error.message();
    if (const auto& hint = error.hint())
        text += " (set wt_profiler_opts." + hint->option + " " + hint->purpose + ")";
    return text + ": " + error.code().message();
}

void clear_last_error() noexcept { last_error.clear(); }

const char* last_error_message() noexcept { return last_error.c_str(); }

}  // namespace waketrace::c_api
