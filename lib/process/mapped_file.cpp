// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/mapped_file.hpp"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

namespace waketrace::detail {

namespace {

bool is_fd_shortage(int error) { return error == EMFILE || error == ENFILE; }

// Opens `path`; on failure keeps the most telling errno in `error`: a
// shortage of fds explains every later failure too, and is what the caller
// must hear of.
// O_NONBLOCK: a path may name a FIFO planted in place of the file, and must
// not block the profiler (the callers check that what opened is the mapped
// regular file).
UniqueFd open_read_only(const std::string& path, int& error) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd && !is_fd_shortage(error))
        error = errno;
    return fd;
}

}  // namespace

UniqueFd open_mapped_file(uint32_t tgid, const Mapping& mapping) {
    int error = ENOENT;
    UniqueFd fd =
        open_read_only(fmt::format("/proc/{}/map_files/{:x}-{:x}", tgid, mapping.start, mapping.end), error);
    if (!fd && !mapping.deleted && mapping.is_file()) {
        fd = open_read_only(fmt::format("/proc/{}/root{}", tgid, mapping.path), error);
        if (!fd)
            fd = open_read_only(mapping.path, error);
    }
    if (!fd)
        errno = error;
    return fd;
}

}  // namespace waketrace::detail
