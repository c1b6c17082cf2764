// SPDX-License-Identifier: LGPL-2.1-or-later
// Decoded records + symbols -> the public Profile: names every frame, hides
// the tracing machinery's own frames, settles interrupt contexts (merging the
// chains that then fall together), scales sampled chains, sums per-thread
// totals, sorts like offwaketime.
#pragma once

#include <vector>

#include "decode/records.hpp"
#include "symbolize/symbolizer.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

// stack_sample_percent < 100: chain times and counts are scaled up to
// estimate all events; thread totals come from the exact per-thread map.
// Otherwise thread totals are summed from the (exact) chains.
Profile build_profile(DecodedProfile decoded, const Losses& losses, uint32_t stack_sample_percent,
                      CaptureMode mode, Symbolizer& symbolizer);

// Drops the innermost frames up to and including the last one that belongs to
// the tracing machinery (bpf_prog_*, bpf_trace_run*, __traceiter_*,
// __bpf_trace_*): they show where we looked, not what the task did.
void strip_tracing_frames(std::vector<Frame>& kernel_frames);

}  // namespace waketrace::detail
