// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode: the user stack snapshots of the ring buffer unwound into
// addresses, with the files the process registry pinned for each process,
// and the EventChains that sums them.
#pragma once

#include <memory>

#include "decode/event_chains.hpp"
#include "process/process_registry.hpp"

namespace waketrace::detail {

// EventChains whose snapshots are unwound on arrival (on the ring reader's
// thread, while their process usually still runs) and whose execs refresh
// the process's image in `processes`, which must outlive it.
std::unique_ptr<EventChains> unwinding_event_chains(ProcessRegistry& processes);

}  // namespace waketrace::detail
