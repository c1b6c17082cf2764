// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/cgroup_filter.hpp"

#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "waketrace/error.hpp"

namespace waketrace::detail {
namespace {

// The mount point of the cgroup2 mount that holds `path` (an absolute,
// resolved path): the longest cgroup2 mount point that is a prefix of it.
// A hybrid host mounts cgroup2 at /sys/fs/cgroup/unified, a pure v2 host at
// /sys/fs/cgroup; mountinfo says which.
std::string cgroup2_mount_of(const std::string& path) {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line, best;
    while (std::getline(mountinfo, line)) {
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER"
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point, field;
        fields >> id >> parent >> device >> root >> mount_point;
        while (fields >> field && field != "-") {
        }
        std::string fs_type;
        fields >> fs_type;
        if (fs_type != "cgroup2")
            continue;
        const bool under = path == mount_point || (path.compare(0, mount_point.size(), mount_point) == 0 &&
                                                   (mount_point == "/" || path[mount_point.size()] == '/'));
        if (under && mount_point.size() > best.size())
            best = mount_point;
    }
    return best;
}

uint32_t components_below(const std::string& path, const std::string& mount_point) {
    uint32_t level = 0;
    const std::string rest = path.substr(mount_point == "/" ? 0 : mount_point.size());
    for (size_t at = 0; at < rest.size(); ++at)
        if (rest[at] == '/' && at + 1 < rest.size() && rest[at + 1] != '/')
            ++level;
    return level;
}

}  // namespace

CgroupTarget resolve_cgroup(const std::string& path) {
    std::unique_ptr<char, decltype(&free)> resolved(realpath(path.c_str(), nullptr), &free);
    if (!resolved) {
        const int err = errno;
        throw Error(err, fmt::format("cgroup {}: cannot resolve the path", path));
    }
    struct statfs fs {};
    struct stat st {};
    if (statfs(resolved.get(), &fs) != 0 || stat(resolved.get(), &st) != 0) {
        const int err = errno;
        throw Error(err, fmt::format("cgroup {}: cannot read it", path));
    }
    if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
        throw Error(EINVAL, fmt::format("cgroup {} is not a cgroup v2 directory (find the cgroup2 mount "
                                        "in /proc/mounts)",
                                        path));
    const std::string mount_point = cgroup2_mount_of(resolved.get());
    if (mount_point.empty())
        throw Error(EINVAL, fmt::format("cgroup {}: no cgroup2 mount holds it", path));
    // cgroup v2 ids are the kernfs node ids, which the directory's inode
    // numbers are on 64-bit hosts.
    return {uint64_t(st.st_ino), components_below(resolved.get(), mount_point)};
}

}  // namespace waketrace::detail
