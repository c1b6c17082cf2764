// SPDX-License-Identifier: LGPL-2.1-or-later
#include "losses_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "options.hpp"
#include "waketrace/options.hpp"

namespace waketrace::cli {
namespace {

void report(std::FILE* out, uint64_t count, const char* what, const std::string& advice) {
    if (count)
        fmt::print(out, "WARNING: {} {} ({})\n", count, what, advice);
}

// A map that filled up: how much was lost says nothing of how much more was
// needed, so suggest a size that leaves clear room (four times the one used).
std::string rerun_with(std::string_view config_member, uint32_t capacity) {
    const uint64_t larger = std::min<uint64_t>(uint64_t(capacity) * 4, std::numeric_limits<uint32_t>::max());
    return fmt::format("rerun with {} {}", option_for(config_member), larger);
}

// The ring absorbs bursts while the unwinding thread catches up; a larger
// one helps with bursts, fewer or smaller copies with a steady excess.
std::string ring_advice(const Config& config) {
    const std::string ring = option_for("dwarf_ring_bytes");
    const std::string others =
        fmt::format("a lower {}, or {}", option_for("dwarf_stack_bytes"), option_for("stack_sample_percent"));
    if (config.dwarf_ring_bytes == 0)
        return fmt::format("rerun with a larger {}, {}", ring, others);
    const uint64_t larger =
        std::min<uint64_t>(uint64_t(config.dwarf_ring_bytes) * 4, options::kMaxDwarfRingBytes);
    return fmt::format("rerun with {} {}, {}", ring, larger, others);
}

}  // namespace

void report_losses(std::FILE* out, const Losses& losses, const Config& config) {
    report(out, losses.stack_collisions, "stacks lost to stack id collisions",
           "another stack's frames hashed to the same id");
    report(out, losses.stack_map_full, "stacks lost to a full stack map",
           rerun_with("stack_storage_size", config.stack_storage_size));
    report(out, losses.stack_errors, "stacks could not be captured or read back",
           "user memory not readable at the time; a stack found nowhere when read back (lost, -ENOENT) "
           "would be a bug, please report it");
    // The map is moved to user space each time it passes half full, so a
    // full map means half a map of new chains began between two looks.
    report(out, losses.chain_map_full, "off-CPU periods lost to a full chain map",
           rerun_with("max_chains", config.max_chains) +
               ": more new chains began within 50 ms than half the kernel map holds");
    report(out, losses.missed_switch_outs, "off-CPU periods lost: too many traced threads at once",
           rerun_with("max_off_cpu_threads", config.max_off_cpu_threads) + ", or profile fewer threads");
    report(out, losses.process_events, "new processes announced too late",
           "their user frames may be [unknown] if they exited");
    report(out, losses.thread_map_full, "off-CPU periods missing from the per-thread totals",
           rerun_with("max_off_cpu_threads", config.max_off_cpu_threads) + ", or profile fewer threads");
    report(out, losses.user_stack_events, "user stacks lost: the --dwarf ring buffer was full",
           ring_advice(config));
    report(out, losses.period_events, "off-CPU periods lost: the --dwarf ring buffer was full",
           ring_advice(config));
    report(out, losses.missed_switch_ins,
           "off-CPU periods lost: the kernel did not report the switch back in",
           "some virtualised hosts hide their agent's switches; nothing to do");
    report(out, losses.skipped_runs, "BPF program runs skipped by the kernel",
           "another BPF program was running on that CPU at the time");
    // --depth above 1: a lost level cuts its chain short, marked
    // "[waker's wait lost]"; the period itself is still counted.
    report(out, losses.chain_states_full, "waker levels lost: a thread's last wait did not fit",
           rerun_with("max_off_cpu_threads", config.max_off_cpu_threads) +
               "; those chains end in [waker's wait lost]");
    report(out, losses.hop_map_full, "waker levels lost to a full hop map",
           rerun_with("max_hops", config.max_hops) + "; those chains end in [waker's wait lost]");
    report(out, losses.hop_collisions, "waker levels lost to hop id collisions",
           "another waker level hashed to the same id; those chains end in [waker's wait lost]");
    report(out, losses.untraced_children, "child processes not traced: the pid filter was full",
           "trace fewer processes at once, or trace system-wide and filter the report");
    report(out, losses.off_cpu_events, "off-CPU events lost: their ring buffer was full",
           fmt::format("rerun with a larger {}; the periods are still in the chains",
                       option_for("events_ring_bytes")));
    report(out, losses.histogram_map_full, "periods missing from their chain's histogram: its map was full",
           rerun_with("max_chains", config.max_chains) + "; the periods are still in the chains' times");
}

}  // namespace waketrace::cli
