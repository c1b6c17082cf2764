// SPDX-License-Identifier: LGPL-2.1-or-later
#include "support/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "support/unique_fd.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

[[noreturn]] void throw_errno(int errno_value, const char* what, const std::string& path) {
    throw Error(errno_value, fmt::format("cannot {} {}", what, path));
}

UniqueFd open_for_reading(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno(errno, "open", path);
    return fd;
}

// One read(2), retried when a signal interrupts it; 0 at end of file.
size_t read_some(const UniqueFd& fd, char* into, size_t size, const std::string& path) {
    for (;;) {
        const ssize_t got = ::read(fd.get(), into, size);
        if (got >= 0)
            return size_t(got);
        if (errno != EINTR)
            throw_errno(errno, "read", path);
    }
}

}  // namespace

std::string read_whole_file(const std::string& path) {
    const UniqueFd fd = open_for_reading(path);

    // Grow geometrically so a longer file takes few reads and few
    // reallocations.
    std::string contents;
    size_t used = 0;
    size_t capacity = 64 * 1024;
    for (;;) {
        contents.resize(capacity);
        const size_t got = read_some(fd, contents.data() + used, capacity - used, path);
        if (got == 0)
            break;
        used += got;
        if (used == capacity)
            capacity *= 2;
    }
    contents.resize(used);
    return contents;
}

void for_each_line(const std::string& path, const std::function<void(std::string_view)>& visit,
                   size_t chunk) {
    const UniqueFd fd = open_for_reading(path);

    // One buffer, reused: the start holds the unfinished line the last read
    // ended in, the rest takes the next read.
    std::vector<char> buffer(std::max<size_t>(chunk, 2));
    size_t kept = 0;
    for (;;) {
        if (kept == buffer.size())
            buffer.resize(buffer.size() * 2);
        const size_t got = read_some(fd, buffer.data() + kept, buffer.size() - kept, path);
        if (got == 0)
            break;
        const char* line = buffer.data();
        const char* end = buffer.data() + kept + got;
        while (const void* newline = std::memchr(line, '\n', size_t(end - line))) {
            const char* line_end = static_cast<const char*>(newline);
            visit(std::string_view(line, size_t(line_end - line)));
            line = line_end + 1;
        }
        kept = size_t(end - line);
        std::memmove(buffer.data(), line, kept);
    }
    if (kept > 0)
        visit(std::string_view(buffer.data(), kept));
}

}  // namespace waketrace::detail
