// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --dwarf mode's ring buffer (`stack_events`): its size, from
// Config::dwarf_ring_bytes or a default that fits the machine, and how much
// may wait in it before the program wakes the reader. The sizes Config may
// ask for are include/waketrace/options.hpp's to check.
#pragma once

#include <cstdint>

#include "waketrace/config.hpp"

namespace waketrace::detail {

// The size the ring gets: Config::dwarf_ring_bytes when set; else room for
// 4,096 snapshots per online CPU (at least 8,192) of dwarf_stack_bytes each,
// rounded up to a power of two and at most 32 MiB. One page outside --dwarf.
uint32_t dwarf_ring_bytes(const Config& config);

// The program wakes the reader only once this many bytes wait in the ring
// (then on every record until it has read them); otherwise the reader
// finds them at its next poll timeout, or when asked to catch up.
uint64_t dwarf_ring_wakeup_bytes(uint32_t ring_bytes);

}  // namespace waketrace::detail
