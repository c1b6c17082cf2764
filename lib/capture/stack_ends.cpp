// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/stack_ends.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>

#include "waketrace_abi.h"

namespace waketrace::detail {

StackEnds::StackEnds(int map_fd) : map_(map_fd >= 0 ? fcntl(map_fd, F_DUPFD_CLOEXEC, 0) : -1) {}

bool StackEnds::set(uint32_t tid, uint64_t thread_start_ns, uint64_t end) const noexcept {
    if (!map_)
        return false;
    const wt_stack_top top{end, thread_start_ns};
    return bpf_map_update_elem(map_.get(), &tid, &top, BPF_ANY) == 0;
}

}  // namespace waketrace::detail
