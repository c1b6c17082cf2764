// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A fuzz input as a file: readers that take a path or an fd (the streamed
// kallsyms reader, libdwfl) see the bytes through /proc/self/fd/N of a
// memfd, so no harness touches the disk.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "support/unique_fd.hpp"

namespace waketrace::fuzz {

class MemoryFile {
public:
    MemoryFile(const uint8_t* data, size_t size) : fd_(::memfd_create("fuzz-input", MFD_CLOEXEC)) {
        // Without the file the harness cannot test anything: a setup failure,
        // not a finding, so stop loudly rather than pass quietly.
        if (!fd_ || !write_all(data, size))
            std::abort();
    }

    int fd() const noexcept { return fd_.get(); }
    std::string path() const { return fmt::format("/proc/self/fd/{}", fd_.get()); }
    // A second descriptor of the same file, for readers that take ownership.
    detail::UniqueFd reopen() const { return detail::UniqueFd(::open(path().c_str(), O_RDONLY | O_CLOEXEC)); }

private:
    bool write_all(const uint8_t* data, size_t size) {
        size_t written = 0;
        while (written < size) {
            ssize_t got = ::write(fd_.get(), data + written, size - written);
            if (got <= 0)
                return false;
            written += static_cast<size_t>(got);
        }
        return true;
    }

    detail::UniqueFd fd_;
};

}  // namespace waketrace::fuzz
