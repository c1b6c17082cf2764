// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Checks, before loading, that the process may still open the file
// descriptors a profiler needs. libbpf turns running out of them part-way
// into other errors: its kernel feature probes fail with EMFILE and read as
// "feature missing", and the program load then fails with EINVAL. Checked
// first, the caller hears EMFILE as itself, with what to do.
#pragma once

#include <cstddef>

namespace waketrace::detail {

// Descriptors one started profiler holds (its maps, programs, links, BTF,
// one ring buffer reader) or briefly needs while libbpf loads: measured on
// Linux 6.18 with libbpf 1.1 as the fewest a start succeeds with.
inline constexpr size_t kDescriptorsToStart = 21;  // 20, and the own_threads map
// --dwarf mode's second ring buffer reader, and the unwinding thread's own
// descriptor of the stack end map (capture/stack_ends.hpp).
inline constexpr size_t kDescriptorsForDwarf = 2;

// Throws Error(EMFILE) when fewer than `needed` descriptors are left under
// RLIMIT_NOFILE, naming how many are open and the limit.
void require_free_descriptors(size_t needed);

}  // namespace waketrace::detail
