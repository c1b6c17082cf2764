// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Finding the file a process actually mapped, which its path may no longer name.
#pragma once

#include <cstdint>

#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"

namespace waketrace::detail {

// Opens the file behind `mapping` of process `tgid`, trying in turn:
//  1. /proc/TGID/map_files/START-END: the mapped inode itself, so it works for
//     deleted files and other mount namespaces (needs CAP_SYS_ADMIN or
//     CAP_CHECKPOINT_RESTORE, and the process alive);
//  2. /proc/TGID/root/PATH: the path inside the process's mount namespace;
//  3. PATH as seen by us (the process may have exited).
// A deleted mapping's path names some other file (or none), so 2 and 3 are
// skipped for it. Returns an invalid fd when every way fails, with errno
// set: EMFILE or ENFILE when any attempt failed for lack of fds, else the
// last attempt's error.
UniqueFd open_mapped_file(uint32_t tgid, const Mapping& mapping);

}  // namespace waketrace::detail
