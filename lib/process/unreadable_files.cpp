// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/unreadable_files.hpp"

#include <cerrno>

#include <fmt/format.h>

namespace waketrace::detail {

namespace {

// The symbolic names of the causes a warning is given for, so that the user
// knows what to raise.
std::string_view errno_name(int errno_value) {
    switch (errno_value) {
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EFBIG: return "EFBIG";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    default: return {};
    }
}

std::string_view advice_for(int errno_value) {
    switch (errno_value) {
    case EMFILE: return "raise the limit on open files (ulimit -n)";
    case ENFILE: return "the system is out of file descriptors";
    case EFBIG: return "such files are not read";
    case ENOMEM: return "not enough memory";
    default: return {};
    }
}

}  // namespace

bool UnreadableFiles::is_shortage(int errno_value) {
    return errno_value == EMFILE || errno_value == ENFILE || errno_value == ENOMEM;
}

// A lack of resources is worth a warning (once per cause, as every later file
// fails alike); a file simply gone is not.
void UnreadableFiles::report(int errno_value, std::string_view message) {
    ++count_;
    std::string_view name = errno_name(errno_value);
    bool first = false;
    if (!name.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        first = warned_.insert(errno_value).second;
    }
    if (first)
        log(LogLevel::warning, fmt::format("{} ({}): frames in files that cannot be read stay unresolved; {}",
                                           message, name, advice_for(errno_value)));
    else
        log(LogLevel::debug, message);
}

}  // namespace waketrace::detail
