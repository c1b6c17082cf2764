// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/debug_file_beside.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "symbolize/build_id.hpp"
#include "process/private_copy.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

// The CRC32 .gnu_debuglink carries, of the whole file.
std::optional<uint32_t> crc32_of(int fd) {
    uLong crc = crc32(0L, Z_NULL, 0);
    std::vector<unsigned char> buffer(1 << 16);
    for (off_t at = 0;;) {
        ssize_t got = ::pread(fd, buffer.data(), buffer.size(), at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return std::nullopt;
        if (got == 0)
            return static_cast<uint32_t>(crc);
        crc = crc32(crc, buffer.data(), static_cast<uInt>(got));
        at += got;
    }
}

bool matches(const DebugFileQuery& query, int copy) {
    if (!query.build_id.empty())
        return read_build_id(copy) == query.build_id;
    if (query.debuglink_crc != 0)
        return crc32_of(copy) == query.debuglink_crc;
    return true;
}

std::optional<FoundDebugFile> try_candidate(const DebugFileQuery& query, const std::string& path,
                                            const UnreadableFileLog& unreadable) {
    // O_NONBLOCK: a FIFO planted under the name must not block the profiler.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        const int error = errno;
        if ((error == EMFILE || error == ENFILE) && unreadable)
            unreadable(error, fmt::format("cannot open {}: {}", path, std::strerror(error)));
        return std::nullopt;
    }
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode) ||
        (status.st_dev == query.file_device && status.st_ino == query.file_inode))
        return std::nullopt;
    try {
        UniqueFd copy = private_copy(fd.get(), path);
        if (!matches(query, copy.get()))
            return std::nullopt;
        return FoundDebugFile{std::move(copy), path};
    } catch (const Error& error) {
        if (unreadable)
            unreadable(error.errno_value(), fmt::format("debug file skipped: {}", error.what()));
        return std::nullopt;
    }
}

}  // namespace

std::optional<FoundDebugFile> find_debug_file_beside(const DebugFileQuery& query,
                                                     const UnreadableFileLog& unreadable) {
    const size_t slash = query.file_path.rfind('/');
    const std::string directory =
        slash == std::string::npos ? std::string(".") : query.file_path.substr(0, slash);
    std::string name = query.debuglink;
    if (name.empty())
        name = query.file_path.substr(slash == std::string::npos ? 0 : slash + 1) + ".debug";
    if (name.find('/') != std::string::npos || name == "." || name == "..")
        return std::nullopt;
    for (const std::string& path : {directory + "/" + name, directory + "/.debug/" + name}) {
        if (std::optional<FoundDebugFile> found = try_candidate(query, path, unreadable))
            return found;
    }
    return std::nullopt;
}

}  // namespace waketrace::detail
