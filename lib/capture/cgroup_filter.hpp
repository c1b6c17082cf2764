// SPDX-License-Identifier: LGPL-2.1-or-later
// Config::cgroups as the kernel sees them: a cgroup v2 directory becomes its
// cgroup id (the directory's inode number) and its level (depth below the
// root of its cgroup2 mount), which is what the program compares with
// bpf_get_current_ancestor_cgroup_id(level).
#pragma once

#include <cstdint>
#include <string>

namespace waketrace::detail {

struct CgroupTarget {
    uint64_t id = 0;
    uint32_t level = 0;
};

// Throws Error: ENOENT (no such directory), EINVAL (not in a cgroup v2
// hierarchy), or the errno of the failed call.
CgroupTarget resolve_cgroup(const std::string& path);

}  // namespace waketrace::detail
