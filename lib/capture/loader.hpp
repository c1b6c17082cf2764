// SPDX-License-Identifier: LGPL-2.1-or-later
// Owns the BPF side of one profiler: opens the embedded program, sets its
// filters and map sizes, loads, attaches, and reads back what it gathered.
// The only file that sees the skeleton.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "capture/kernel_probe.hpp"
#include "support/library_threads.hpp"
#include "waketrace/config.hpp"
#include "waketrace/error.hpp"
#include "waketrace/profile.hpp"
#include "waketrace_abi.h"

struct waketrace_bpf;
struct bpf_map;

namespace waketrace::detail {

// The program's own loss counters (indexes WT_DROP_*), then one the kernel
// keeps for it: runs it skipped because a BPF program was already running on
// that CPU (bpf_prog_info.recursion_misses, summed over the programs).
constexpr size_t kDropSkippedRuns = WT_DROP_NR;
using DropCounts = std::array<uint64_t, WT_DROP_NR + 1>;
using ChainVisitor = std::function<void(const wt_chain_key&, const wt_chain_value&)>;
// A chain's histograms (Config::histograms), widened to 64-bit counts.
using HistogramVisitor = std::function<void(const wt_chain_key&, const LatencyHistogram&)>;
using ThreadVisitor = std::function<void(const wt_thread_key&, const wt_chain_value&)>;

// Entries a kernel map holds now, and how many it can hold.
struct MapFill {
    uint64_t entries = 0;
    uint64_t capacity = 0;
};

class BpfCapture {
public:
    // Opens, configures and loads; throws Error with the libbpf errno and, on
    // a verifier rejection, passes the verifier log to config.log.
    BpfCapture(const Config& config, const KernelFeatures& features);
    ~BpfCapture();
    BpfCapture(const BpfCapture&) = delete;
    BpfCapture& operator=(const BpfCapture&) = delete;

    void attach();
    // Leaves one of the library's own threads out of the targets (it still
    // shows as a waker). Cheap; may be called from any thread while running.
    void leave_out_thread(uint32_t tid) noexcept;
    // A library thread that was joined: its tid is a target again.
    void take_back_thread(uint32_t tid) noexcept;
    void detach() noexcept;  // idempotent; maps stay readable

    void for_each_chain(const ChainVisitor& visit) const;
    // Per-thread totals, kept only when stacks are sampled.
    void for_each_thread_total(const ThreadVisitor& visit) const;

    // Taking (periodic drain): seal() makes the program sum new periods
    // under a new generation and waits until no program run can still add
    // to the old ones; the takes then remove and return every entry of the
    // sealed generations. So nothing is counted twice or lost between two
    // takes, and no addition lands on a removed entry.
    void seal();
    void take_chains(const ChainVisitor& visit);
    void take_thread_totals(const ThreadVisitor& visit);
    // Config::histograms: each chain's histograms, keyed like the chains and
    // taken with them (after the same seal()). Nothing without histograms,
    // or in --dwarf mode (EventChains keeps them there).
    void for_each_histogram(const HistogramVisitor& visit) const;
    void take_histograms(const HistogramVisitor& visit);
    // Entries in each map now: those the program created less those taken.
    // Only the thread that takes may ask (the counts of taken are its own).
    uint64_t chain_entries() const;
    uint64_t thread_total_entries() const;
    // What the records not yet read name, for forgetting what nothing does
    // (decode/record_references.hpp). Each visits the task keys (identity
    // and stack ids) of one map; false when the map could not be read
    // through, and then nothing may be forgotten on its account.
    //   The open periods: every thread off CPU now, its own key and its
    //   waker's (WT_CTX_NONE: no waker yet; the key is zeroed).
    bool for_each_off_cpu_task(const std::function<void(const wt_task_key&)>& visit) const;
    //   The waker levels past the first (chain_depth > 1): every hop.
    bool for_each_hop(const std::function<void(const wt_hop&)>& visit) const;
    //   The chains in the kernel map, every generation.
    bool for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const;
    // Returns once every program run that began before the call has ended:
    // what those runs wrote is in the maps (or the ring buffers) by then.
    void wait_for_program_runs() const noexcept;
    // A process user space no longer holds a snapshot of: the program
    // announces it again if its tgid shows up later (reused by a new process).
    void forget_announced(uint32_t tgid) noexcept;
    // Frame addresses of a stack id, innermost first; nullopt when the map
    // holds no stack under the id (a stack may have no frames).
    std::optional<std::vector<uint64_t>> stack(int32_t stack_id) const;
    // A waker level past the first (chain_depth > 1), by its id. Hops are
    // never removed or changed while the program is loaded, and an id is a
    // hash of the contents, so what it names never changes.
    std::optional<wt_hop> hop(uint32_t hop_id) const;
    // Removes every stack from the stack maps, visiting each (its id and
    // frames) before it is removed. The program never changes a stored stack, and its id is
    // a hash of its frames, so a copy taken here names the same stack as any
    // later entry under that id (bar a hash collision). Returns how many.
    uint64_t take_stacks(const std::function<void(int32_t, std::vector<uint64_t>)>& visit);
    // How full each stack map is (short, long); only the thread that takes
    // may ask.
    std::array<MapFill, 2> stack_map_fill() const;
    DropCounts drops() const;
    int process_events_fd() const;
    // --dwarf mode's user stack snapshots and periods (wt_*_event records).
    int stack_events_fd() const;
    // Config::events: every off-CPU period (wt_off_cpu_event records).
    int off_cpu_events_fd() const;
    // --dwarf mode: where threads' stacks end (tid -> wt_stack_top), written
    // by user space as it learns them.
    int stack_tops_fd() const;
    bool uses_tp_btf() const noexcept { return tp_btf_; }
    // Config::chain_depth > 1: the program keeps hop records.
    bool deep_chains() const noexcept { return deep_chains_; }

private:
    uint64_t skipped_runs() const;
    void configure(const Config& config, const KernelFeatures& features);
    void load(const Config& config);
    uint64_t take_stacks_of(const bpf_map* map, size_t depth,
                            const std::function<void(int32_t, std::vector<uint64_t>)>& visit);

    waketrace_bpf* skel_ = nullptr;
    std::vector<char> verifier_log_;
    bool tp_btf_ = false;
    bool deep_chains_ = false;
    bool histograms_ = false;  // the kernel keeps histograms (chain_histograms)
    uint64_t chains_taken_ = 0;
    uint64_t thread_totals_taken_ = 0;
    uint64_t short_stack_capacity_ = 0;
    uint64_t long_stack_capacity_ = 0;
    uint64_t short_stacks_taken_ = 0;
    uint64_t long_stacks_taken_ = 0;
    // Every library thread of the process is left out, other Profilers' too
    // (support/library_threads.hpp); dropped before the skeleton.
    std::unique_ptr<ExclusionRegistration> library_threads_;
};

}  // namespace waketrace::detail
