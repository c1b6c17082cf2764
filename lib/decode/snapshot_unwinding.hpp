// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode: the user stack snapshots of the ring buffer unwound into
// addresses, with the files the process registry pinned for each process,
// and the EventChains that sums them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "decode/event_chains.hpp"
#include "process/process_registry.hpp"

namespace waketrace::detail {

// Where a thread's stack ends (user address; 0: copy it whole), as
// StackEndLearner (decode/stack_end_learner.hpp) decides from the unwinds of
// its snapshots; the program then copies the thread's stack only up to
// there (capture/stack_ends.hpp).
using LearnStackEnd = std::function<void(uint32_t tid, uint64_t thread_start_ns, uint64_t end)>;

// EventChains whose snapshots are unwound on arrival (on the ring reader's
// thread, while their process usually still runs) and whose execs refresh
// the process's image in `processes`, which must outlive it. `learn` hears
// of each change to a thread's stack end, on the same thread.
std::unique_ptr<EventChains> unwinding_event_chains(ProcessRegistry& processes, LearnStackEnd learn = {});

}  // namespace waketrace::detail
