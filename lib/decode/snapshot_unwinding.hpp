// --dwarf mode: the user stack snapshots of the ring buffer unwound into
// addresses, with the files the symbolizer pinned for each process, and the
// EventChains that sums them.
#pragma once

#include <memory>

#include "decode/event_chains.hpp"
#include "symbolize/symbolizer.hpp"

namespace waketrace::detail {

// EventChains whose snapshots are unwound on arrival (on the ring reader's
// thread, while their process usually still runs) and whose execs refresh
// `symbolizer`'s picture of the process. `symbolizer` must outlive it.
std::unique_ptr<EventChains> unwinding_event_chains(Symbolizer& symbolizer);

}  // namespace waketrace::detail
