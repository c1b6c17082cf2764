// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "symbolize/unique_fd.hpp"
#include "waketrace/profiler.hpp"

namespace waketrace::detail {

namespace {

[[noreturn]] void throw_errno(int errno_value, const char* what, const std::string& path) {
    throw Error(errno_value, fmt::format("cannot {} {}", what, path));
}

}  // namespace

std::string read_whole_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno(errno, "open", path);

    // Grow geometrically so a multi-megabyte /proc/kallsyms takes few reads
    // and few reallocations.
    std::string contents;
    size_t used = 0;
    size_t capacity = 64 * 1024;
    for (;;) {
        contents.resize(capacity);
        ssize_t got = ::read(fd.get(), contents.data() + used, capacity - used);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw_errno(errno, "read", path);
        }
        if (got == 0)
            break;
        used += static_cast<size_t>(got);
        if (used == capacity)
            capacity *= 2;
    }
    contents.resize(used);
    return contents;
}

}  // namespace waketrace::detail
