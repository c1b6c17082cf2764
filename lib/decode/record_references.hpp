// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What a drain may forget: the stacks moved to user space (StackArchive),
// --dwarf mode's snapshots and unwound stacks (EventChains), the snapshots
// of exited processes (ProcessRegistry) -- everything that no record still
// to be read names. A profiler drained for ever then holds what its next
// drains need, not all it ever met.
//
// Why scanning the records is enough. After a drain has decoded what it
// took, the stack ids, snapshot ids and tgids that later reports can ask
// for are those in records not yet read: open periods (`off_cpu_threads`),
// chains (the kernel map, the sums moved out of it, --dwarf's ring and
// EventChains), and, with deeper chains, the hop records. A reference made
// after the scan began cannot need what is forgotten:
// - a stack is named only through store_stack(), which looks the frames up
//   in the kernel map and stores them again when they were moved out; moves
//   are held still during the scan, and the scan first waits for the
//   program runs under way (which may have looked a stack up before its
//   move) to end;
// - a snapshot is forgotten only if it came before that wait;
// - a process is forgotten only if it had exited before the scan began, so
//   nothing of it can be named after.
// The records a reference passes through as the program copies it (an open
// period -> its chain -> user space's sums) are scanned in that order: a
// reference the scan missed in one place because it had already moved on
// is found in the next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "capture/chain_growth.hpp"
#include "capture/loader.hpp"
#include "capture/ring_reader.hpp"
#include "decode/event_chains.hpp"
#include "process/process_registry.hpp"
#include "waketrace_abi.h"

namespace waketrace::detail {

// Every id and process the records scanned so far name.
struct RecordReferences {
    // Ids >= 0 in any task key: kernel stack map ids, and in --dwarf mode
    // snapshot ids and EventChains stack ids too. Mixing them keeps a little
    // more than needed, never less.
    std::unordered_set<int32_t> stack_ids;
    std::unordered_set<uint32_t> tgids;

    void add(const wt_task_key& task);
    void add(const wt_chain_key& key);  // the target and the first waker
    void add(const wt_hop& hop);        // a waker level past the first
};

// One place records wait in. `scan` visits every task key there and
// returns false when it could not read the place through (then nothing is
// forgotten: what it missed may be needed).
struct RecordRoot {
    std::string_view name;
    std::function<bool(RecordReferences&)> scan;
};

// The places, in the order references move through them (see above).
// `stack_events` is the --dwarf ring's reader (null otherwise, or once
// stopped); `unwound` --dwarf mode's EventChains.
std::vector<RecordRoot> record_roots(const BpfCapture& capture, const ChainGrowth& growth,
                                     const EventChains* unwound, RingReader* stack_events);

struct ForgetOutcome {
    bool scanned = false;  // false: a place could not be read, nothing was forgotten
    size_t stacks_forgotten = 0;
    size_t snapshots_forgotten = 0;
    // Exited processes no record names: the caller forgets them (the
    // symbolizer holds more of them than the registry).
    std::vector<ProcessRegistry::Exited> exited_processes;
};

// At the end of a drain: forgets what no record names any more.
ForgetOutcome forget_unreferenced(BpfCapture& capture, ChainGrowth& growth, EventChains* unwound,
                                  RingReader* stack_events, ProcessRegistry& processes);

}  // namespace waketrace::detail
