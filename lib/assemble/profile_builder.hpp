// Decoded records + symbols -> the public Profile: names every frame, hides
// the tracing machinery's own frames, settles interrupt contexts (merging the
// chains that then fall together), sorts like offwaketime.
#pragma once

#include <vector>

#include "decode/records.hpp"
#include "symbolize/symbolizer.hpp"
#include "waketrace/profiler.hpp"

namespace waketrace::detail {

Profile build_profile(std::vector<DecodedChain> chains, const Losses& losses, Symbolizer& symbolizer);

// Drops the innermost frames up to and including the last one that belongs to
// the tracing machinery (bpf_prog_*, bpf_trace_run*, __traceiter_*,
// __bpf_trace_*): they show where we looked, not what the task did.
void strip_tracing_frames(std::vector<Frame>& kernel_frames);

}  // namespace waketrace::detail
