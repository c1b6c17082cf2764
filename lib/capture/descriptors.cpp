// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/descriptors.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "waketrace/error.hpp"

namespace waketrace::detail {
namespace {

[[noreturn]] void out_of_descriptors(const std::string& situation, size_t needed) {
    throw Error(EMFILE, fmt::format("too many open files to start the profiler: {}, and it needs {} "
                                    "more (raise the limit: ulimit -n, or RLIMIT_NOFILE)",
                                    situation, needed));
}

}  // namespace

void require_free_descriptors(size_t needed) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return;
    // Counting the entries of /proc/self/fd takes a descriptor itself: if
    // even that one is missing, none are free.
    const std::unique_ptr<DIR, int (*)(DIR*)> fds(opendir("/proc/self/fd"), &closedir);
    if (!fds) {
        if (errno == EMFILE)
            out_of_descriptors(fmt::format("all {} allowed are open", limit.rlim_cur), needed);
        return;  // no /proc: let the load itself report
    }
    // A new descriptor takes the lowest free number, and fails once none is
    // left below the limit: descriptors numbered above it (inherited from a
    // shell with a higher limit) take no room.
    const int own = dirfd(fds.get());
    size_t below_limit = 0;
    while (const dirent* entry = readdir(fds.get())) {
        char* end = nullptr;
        const unsigned long fd = std::strtoul(entry->d_name, &end, 10);
        if (entry->d_name[0] != '.' && *end == '\0' && fd != static_cast<unsigned long>(own) &&
            fd < limit.rlim_cur)
            ++below_limit;
    }
    const size_t free_count = size_t(limit.rlim_cur) - below_limit;
    if (free_count < needed)
        out_of_descriptors(fmt::format("{} of the {} allowed are open", below_limit, limit.rlim_cur), needed);
}

}  // namespace waketrace::detail
