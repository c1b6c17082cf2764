// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/dwarf_ring.hpp"

#include <unistd.h>

#include <algorithm>

#include "waketrace_abi.h"

namespace waketrace::detail {
namespace {

uint64_t page_size() { return uint64_t(sysconf(_SC_PAGESIZE)); }

// Snapshots the default ring holds per CPU: a CPU's burst of switches must
// fit while the one reader thread catches up, or waits for a CPU. 512 per
// CPU (8 MiB for 4 KiB copies on 2 CPUs) lost 4% of a same-CPU ping-pong's
// periods on a machine busy with builds, 32 MiB none (bench/RESULTS.md).
constexpr uint64_t kSnapshotsPerCpu = 4096;
constexpr uint64_t kMinSnapshots = 8192;
constexpr uint64_t kMaxDefaultRingBytes = uint64_t(32) << 20;
// BPF_RINGBUF_HDR_SZ: each record's header in the ring.
constexpr uint64_t kRecordHeaderBytes = 8;

}  // namespace

uint32_t dwarf_ring_bytes(const Config& config) {
    const uint64_t page = page_size();
    if (config.dwarf_stack_bytes == 0)
        return uint32_t(page);  // unused, but a map needs a size
    if (config.dwarf_ring_bytes)
        return config.dwarf_ring_bytes;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    const uint64_t cpus = online > 0 ? uint64_t(online) : 1;
    const uint64_t snapshot_bytes =
        kRecordHeaderBytes + sizeof(wt_user_stack_event) + config.dwarf_stack_bytes;
    const uint64_t wanted = std::max(kMinSnapshots, kSnapshotsPerCpu * cpus) * snapshot_bytes;
    uint64_t size = page;
    while (size < wanted && size < kMaxDefaultRingBytes)
        size *= 2;
    return uint32_t(size);
}

uint64_t dwarf_ring_wakeup_bytes(uint32_t ring_bytes) {
    // An eighth: the reader wakes for batches of many records, and the
    // rest of the ring is the room left while it gets to run.
    return std::min<uint64_t>(ring_bytes / 8, uint64_t(1) << 20);
}

}  // namespace waketrace::detail
