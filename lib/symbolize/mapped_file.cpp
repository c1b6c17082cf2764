// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/mapped_file.hpp"

#include <fcntl.h>

#include <string>

#include <fmt/format.h>

namespace waketrace::detail {

namespace {

UniqueFd open_read_only(const std::string& path) {
    return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

}  // namespace

UniqueFd open_mapped_file(uint32_t tgid, const Mapping& mapping) {
    if (UniqueFd fd = open_read_only(
            fmt::format("/proc/{}/map_files/{:x}-{:x}", tgid, mapping.start, mapping.end)))
        return fd;
    if (mapping.deleted || !mapping.is_file())
        return UniqueFd();
    if (UniqueFd fd = open_read_only(fmt::format("/proc/{}/root{}", tgid, mapping.path)))
        return fd;
    return open_read_only(mapping.path);
}

}  // namespace waketrace::detail
