// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/loader.hpp"

#include "capture/cgroup_filter.hpp"
#include "capture/dwarf_ring.hpp"
#include "capture/off_cpu_event_ring.hpp"
#include "capture/rodata_options.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

// bpftool spells the program's `bool` globals as C's _Bool, which C++ lacks.
#define _Bool bool
#include "waketrace.skel.h"
#undef _Bool

namespace waketrace::detail {
namespace {

constexpr size_t kVerifierLogSize = 256 * 1024;
// Processes a pid filter that follows children can hold.
constexpr uint32_t kMaxProcesses = 16384;
// Processes the program remembers announcing (an LRU map, always
// preallocated): one it forgot is announced again when it shows up, and
// user space reads its mappings again.
constexpr uint32_t kAnnouncedProcesses = 4096;
static_assert(WT_MAX_CGROUPS == kMaxCgroups, "the program's cgroup slots are Config's");

// Stacks longer than WT_SHORT_STACK_DEPTH frames are the rarer kind: their
// map has room for one per eight short ones (Config::stack_storage_size),
// but for at least 64 (or as many as the short map) so that a small map
// does not fill between two moves with a few deep stacks (a workload's
// under ASan, whose runtime adds frames, filled 5 slots).
uint32_t long_stack_capacity(uint32_t stack_storage_size) {
    return std::max(stack_storage_size / 8, std::min<uint32_t>(stack_storage_size, 64));
}

uint32_t thread_kind_value(ThreadKind kind) {
    switch (kind) {
    case ThreadKind::user_only: return WT_THREAD_KIND_USER;
    case ThreadKind::kernel_only: return WT_THREAD_KIND_KERNEL;
    case ThreadKind::all: break;
    }
    return WT_THREAD_KIND_ALL;
}

uint64_t us_to_ns_saturating(uint64_t us) { return us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000; }

std::string libbpf_message(int err) {
    char buf[128];
    libbpf_strerror(err, buf, sizeof(buf));
    return buf;
}

void check(int err, const char* what) {
    if (err < 0)
        throw Error(-err, fmt::format("{} failed: {}", what, libbpf_message(err)));
}

void fill_filter(bpf_map* map, const std::vector<uint32_t>& ids) {
    const uint8_t yes = 1;
    for (uint32_t id : ids) {
        int err = bpf_map__update_elem(map, &id, sizeof(id), &yes, sizeof(yes), BPF_ANY);
        if (err)
            throw Error(-err, fmt::format("filling the {} filter failed: {}", bpf_map__name(map),
                                          libbpf_message(err)));
    }
}

}  // namespace

BpfCapture::BpfCapture(const Config& config, const KernelFeatures& features)
    : verifier_log_(kVerifierLogSize) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = verifier_log_.data(),
                .kernel_log_size = verifier_log_.size());
    skel_ = waketrace_bpf__open_opts(&opts);
    if (!skel_) {
        const int err = errno;  // the argument order of a call is unspecified
        throw Error(err, fmt::format("opening the BPF program failed: {}", libbpf_message(-err)));
    }
    try {
        configure(config, features);
        load(config);
        library_threads_ = std::make_unique<ExclusionRegistration>(
            ThreadExclusion{[this](uint32_t tid) { leave_out_thread(tid); },
                            [this](uint32_t tid) { take_back_thread(tid); }});
    } catch (...) {
        waketrace_bpf__destroy(skel_);
        throw;
    }
}

BpfCapture::~BpfCapture() {
    library_threads_.reset();
    waketrace_bpf__destroy(skel_);
}

void BpfCapture::configure(const Config& config, const KernelFeatures& features) {
    auto* rodata = skel_->rodata;
    rodata->filter_tgids_on = !config.pids.empty();
    rodata->filter_tids_on = !config.tids.empty();
    // Listed tids are traced whoever they are; otherwise our own threads
    // are targets whenever this process is (system-wide, or among the pids).
    rodata->own_threads_on =
        config.tids.empty() && (config.pids.empty() || std::find(config.pids.begin(), config.pids.end(),
                                                                 uint32_t(getpid())) != config.pids.end());
    rodata->thread_kind = thread_kind_value(config.threads);
    rodata->filters_on = !config.pids.empty() || !config.tids.empty() || config.threads != ThreadKind::all;
    rodata->cgroup_count = uint32_t(config.cgroups.size());
    for (size_t i = 0; i < config.cgroups.size() && i < WT_MAX_CGROUPS; ++i) {
        const CgroupTarget cgroup = resolve_cgroup(config.cgroups[i]);
        rodata->cgroup_ids[i] = cgroup.id;
        rodata->cgroup_levels[i] = cgroup.level;
    }
    rodata->state_filter_on = config.state_mask.has_value();
    rodata->state_mask = config.state_mask.value_or(0);
    rodata->min_block_ns = us_to_ns_saturating(config.min_block_us);
    rodata->max_block_ns = us_to_ns_saturating(config.max_block_us);
    rodata->capture_kernel_stacks = config.stacks != StackKinds::user_only;
    rodata->capture_user_stacks = config.stacks != StackKinds::kernel_only;
    rodata->has_prev_state_arg = features.switch_prev_state;
    rodata->task_stack_size = features.task_stack_size;
    const uint32_t ring_bytes = dwarf_ring_bytes(config);
    rodata->ring_wakeup_bytes = dwarf_ring_wakeup_bytes(ring_bytes);
    const uint32_t event_ring_bytes = off_cpu_event_ring_bytes(config);
    rodata->events_wakeup_bytes = off_cpu_event_wakeup_bytes(event_ring_bytes);
    rodata->trigger_blocked_ns = uint64_t(config.trigger_blocked_ms) * 1'000'000;
    rodata->walk_user_frames_here = features.task_pt_regs;
    rodata->current_task_btf = features.task_pt_regs;  // its helper came with 5.11, before 5.15's
    set_rodata_options(skel_->obj, rodata, sizeof(*rodata), config);

    tp_btf_ =
        config.attach == AttachMode::tp_btf || (config.attach == AttachMode::automatic && features.tp_btf);
    bpf_program__set_autoload(skel_->progs.sched_switch_btf, tp_btf_);
    // offcpu keeps no waker: the wakings need no program at all.
    bpf_program__set_autoload(skel_->progs.sched_waking_btf, tp_btf_ && !config.offcpu);
    bpf_program__set_autoload(skel_->progs.sched_switch_raw, !tp_btf_);
    bpf_program__set_autoload(skel_->progs.sched_waking_raw, !tp_btf_ && !config.offcpu);
    bpf_program__set_autoload(skel_->progs.sched_process_exec_btf, tp_btf_);
    bpf_program__set_autoload(skel_->progs.sched_process_exec_raw, !tp_btf_);
    // Forks and exits matter only to a pid filter that follows children.
    const bool follow = config.follow_children && !config.pids.empty();
    bpf_program__set_autoload(skel_->progs.sched_process_fork_btf, follow && tp_btf_);
    bpf_program__set_autoload(skel_->progs.sched_process_fork_raw, follow && !tp_btf_);
    bpf_program__set_autoload(skel_->progs.sched_process_exit_btf, follow && tp_btf_);
    bpf_program__set_autoload(skel_->progs.sched_process_exit_raw, follow && !tp_btf_);

    auto* maps = &skel_->maps;
    // Maps that fill with the load take memory as they fill, where the
    // kernel allows it: no room for 16,384 chains held from the start. Not
    // the stack maps: a switch may store two new stacks, and the allocator
    // keeps as few as one spare large entry per CPU between its refills.
    // Nor chain_states (one entry at the default depth): allocated on
    // demand, a spinning waker's chain ended "waker's wait lost" in 2 of 20
    // runs of its live test, against 0 of 30 preallocated; why is not known.
    if (features.maps_on_demand)
        for (bpf_map* map : {maps->chains, maps->chain_histograms, maps->off_cpu_threads, maps->thread_totals,
                             maps->hops, maps->stack_tops})
            check(bpf_map__set_map_flags(map, bpf_map__map_flags(map) | BPF_F_NO_PREALLOC),
                  "making a map allocate on demand");
    short_stack_capacity_ = config.stack_storage_size;
    long_stack_capacity_ = long_stack_capacity(config.stack_storage_size);
    check(bpf_map__set_max_entries(maps->short_stacks, short_stack_capacity_), "sizing the short stack map");
    check(bpf_map__set_max_entries(maps->long_stacks, long_stack_capacity_), "sizing the long stack map");
    check(bpf_map__set_max_entries(maps->chains, config.max_chains), "sizing the chain map");
    check(bpf_map__set_max_entries(maps->off_cpu_threads, config.max_off_cpu_threads),
          "sizing the off-CPU map");
    // A hash map needs at least one entry even when its filter is off.
    // Followed children join the pid filter: room for as many processes as
    // the announced-process map below.
    check(bpf_map__set_max_entries(maps->filter_tgids, std::max<size_t>(1, config.pids.size()) +
                                                           (config.follow_children ? kMaxProcesses : 0)),
          "sizing the pid filter");
    check(bpf_map__set_max_entries(maps->filter_tids, std::max<size_t>(1, config.tids.size())),
          "sizing the tid filter");
    check(bpf_map__set_max_entries(maps->announced_processes, kAnnouncedProcesses), "sizing the process map");
    // Used only when sampling; one entry per target thread.
    check(bpf_map__set_max_entries(maps->thread_totals,
                                   config.stack_sample_percent < 100 ? config.max_off_cpu_threads : 1),
          "sizing the thread totals map");
    // Chains past the first waker: each traced thread's last wait, and the
    // waker levels (hops). One entry when chain_depth is 1 (unused).
    deep_chains_ = config.chain_depth > 1;
    const bool deep_chains = deep_chains_;
    check(bpf_map__set_max_entries(maps->chain_states, deep_chains ? config.max_off_cpu_threads : 1),
          "sizing the chain state map");
    check(bpf_map__set_max_entries(maps->hops, deep_chains ? config.max_hops : 1), "sizing the hop map");
    // Histograms pair with chains one to one, so their map is sized like the
    // chain map and moved with it; in --dwarf mode user space keeps them.
    histograms_ = config.histograms && config.dwarf_stack_bytes == 0;
    check(bpf_map__set_max_entries(maps->chain_histograms, histograms_ ? config.max_chains : 1),
          "sizing the histogram map");
    // --dwarf: one stack end per thread; a thread left out copies the whole
    // dwarf_stack_bytes, as before it was learned.
    check(
        bpf_map__set_max_entries(maps->stack_tops, config.dwarf_stack_bytes ? config.max_off_cpu_threads : 1),
        "sizing the stack end map");
    check(bpf_map__set_max_entries(maps->process_events, 256 * 1024), "sizing the ring buffer");
    check(bpf_map__set_max_entries(maps->stack_events, ring_bytes), "sizing the stack event ring buffer");
    check(bpf_map__set_max_entries(maps->off_cpu_events, event_ring_bytes),
          "sizing the off-CPU event ring buffer");
}

void BpfCapture::load(const Config& config) {
    verifier_log_[0] = '\0';
    const int err = waketrace_bpf__load(skel_);
    if (err) {
        if (config.log && verifier_log_[0])
            config.log(LogLevel::warning, fmt::format("BPF verifier log:\n{}", verifier_log_.data()));
        const std::string message =
            fmt::format("loading the BPF program into the kernel failed: {}", libbpf_message(err));
        if (config.log)
            throw Error(-err, message);
        throw Error(-err, message, Hint{"log", "to see the verifier log"});
    }
    verifier_log_ = {};  // only needed for a failed load
    fill_filter(skel_->maps.filter_tgids, config.pids);
    fill_filter(skel_->maps.filter_tids, config.tids);
}

void BpfCapture::attach() {
    const int err = waketrace_bpf__attach(skel_);
    if (err)
        throw Error(-err, fmt::format("attaching to the sched_switch and sched_waking tracepoints "
                                      "failed: {}",
                                      libbpf_message(err)));
}

namespace {

// Returns once every BPF program run that started before the call has
// ended. The programs run inside RCU read-side sections, and
// MEMBARRIER_CMD_GLOBAL is a synchronize_rcu(). Kernels with nohz_full CPUs
// refuse it; there a program run, microseconds long, is long over after a
// pause of many milliseconds.
void wait_for_running_programs() noexcept {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

void BpfCapture::wait_for_program_runs() const noexcept { wait_for_running_programs(); }

void BpfCapture::detach() noexcept {
    waketrace_bpf__detach(skel_);
    // A run that began before the detach may still be adding to the maps.
    wait_for_running_programs();
}

void BpfCapture::leave_out_thread(uint32_t tid) noexcept {
    const uint8_t yes = 1;
    // Full (more threads than the map holds): that thread stays a target.
    (void)bpf_map__update_elem(skel_->maps.own_threads, &tid, sizeof(tid), &yes, sizeof(yes), BPF_ANY);
}

void BpfCapture::take_back_thread(uint32_t tid) noexcept {
    (void)bpf_map__delete_elem(skel_->maps.own_threads, &tid, sizeof(tid), 0);
}

void BpfCapture::seal() {
    __atomic_fetch_add(&skel_->bss->chain_generation, 1, __ATOMIC_SEQ_CST);
    wait_for_running_programs();
}

namespace {

// Visits every entry of a hash map; with `take`, removes each entry of a
// sealed generation (any but `generation_now`) as it is read.
// Returns how many entries it visited.
template <typename Key, typename Value = wt_chain_value, typename Visit>
uint64_t visit_entries(const bpf_map* map, bool take, uint32_t generation_now, const Visit& visit) {
    std::vector<Key> keys;
    Key current{};
    Key next{};
    const Key* previous = nullptr;
    while (bpf_map__get_next_key(map, previous, &next, sizeof(next)) == 0) {
        keys.push_back(next);
        current = next;
        previous = &current;
    }
    // Keys are collected first: deleting while walking with get_next_key
    // can restart the walk from the beginning.
    Value value{};
    uint64_t visited = 0;
    for (const Key& key : keys) {
        if (take && key.generation == generation_now)
            continue;
        const int err =
            take ? bpf_map__lookup_and_delete_elem(map, &key, sizeof(key), &value, sizeof(value), 0)
                 : bpf_map__lookup_elem(map, &key, sizeof(key), &value, sizeof(value), 0);
        if (err == 0) {
            visit(key, value);
            ++visited;
        }
    }
    return visited;
}

}  // namespace

void BpfCapture::for_each_chain(const ChainVisitor& visit) const {
    visit_entries<wt_chain_key>(skel_->maps.chains, false, 0, visit);
}

void BpfCapture::take_chains(const ChainVisitor& visit) {
    chains_taken_ +=
        visit_entries<wt_chain_key>(skel_->maps.chains, true, skel_->bss->chain_generation, visit);
}

namespace {

static_assert(LatencyHistogram::kBuckets == WT_HISTOGRAM_BUCKETS, "the program's buckets are the API's");

// The kernel's 32-bit counts, as sums in user space keep them.
auto widened(const HistogramVisitor& visit) {
    return [&visit](const wt_chain_key& key, const wt_histogram_value& counts) {
        LatencyHistogram histogram;
        std::copy(std::begin(counts.off_cpu), std::end(counts.off_cpu), histogram.off_cpu.begin());
        std::copy(std::begin(counts.runqueue), std::end(counts.runqueue), histogram.runqueue.begin());
        visit(key, histogram);
    };
}

}  // namespace

void BpfCapture::for_each_histogram(const HistogramVisitor& visit) const {
    if (histograms_)
        visit_entries<wt_chain_key, wt_histogram_value>(skel_->maps.chain_histograms, false, 0,
                                                        widened(visit));
}

void BpfCapture::take_histograms(const HistogramVisitor& visit) {
    if (histograms_)
        visit_entries<wt_chain_key, wt_histogram_value>(skel_->maps.chain_histograms, true,
                                                        skel_->bss->chain_generation, widened(visit));
}

void BpfCapture::for_each_thread_total(const ThreadVisitor& visit) const {
    visit_entries<wt_thread_key>(skel_->maps.thread_totals, false, 0, visit);
}

void BpfCapture::take_thread_totals(const ThreadVisitor& visit) {
    thread_totals_taken_ +=
        visit_entries<wt_thread_key>(skel_->maps.thread_totals, true, skel_->bss->chain_generation, visit);
}

namespace {

// A take can see an entry before the program has counted its creation.
uint64_t entries_left(const __u64* created, uint64_t taken) {
    const uint64_t made = __atomic_load_n(created, __ATOMIC_RELAXED);
    return made > taken ? made - taken : 0;
}

}  // namespace

std::array<MapFill, 2> BpfCapture::stack_map_fill() const {
    return {
        MapFill{entries_left(&skel_->bss->short_stacks_created, short_stacks_taken_), short_stack_capacity_},
        MapFill{entries_left(&skel_->bss->long_stacks_created, long_stacks_taken_), long_stack_capacity_}};
}

uint64_t BpfCapture::chain_entries() const {
    return entries_left(&skel_->bss->chains_created, chains_taken_);
}

uint64_t BpfCapture::thread_total_entries() const {
    return entries_left(&skel_->bss->thread_totals_created, thread_totals_taken_);
}

std::optional<wt_hop> BpfCapture::hop(uint32_t hop_id) const {
    wt_hop hop{};
    if (bpf_map__lookup_elem(skel_->maps.hops, &hop_id, sizeof(hop_id), &hop, sizeof(hop), 0) != 0)
        return std::nullopt;
    return hop;
}

std::optional<std::vector<uint64_t>> BpfCapture::stack(int32_t stack_id) const {
    if (stack_id < 0)
        return std::nullopt;
    const bool long_stack = (stack_id & WT_STACK_ID_LONG) != 0;
    std::vector<uint64_t> frames(long_stack ? WT_MAX_STACK_DEPTH : WT_SHORT_STACK_DEPTH);
    if (bpf_map__lookup_elem(long_stack ? skel_->maps.long_stacks : skel_->maps.short_stacks, &stack_id,
                             sizeof(stack_id), frames.data(), frames.size() * sizeof(uint64_t), 0)) {
        return std::nullopt;
    }
    // A stack shorter than its map's entries ends with a zero.
    frames.erase(std::find(frames.begin(), frames.end(), 0), frames.end());
    return frames;
}

// A batch read walks the hash table bucket by bucket, so a map the program
// changes all the time (a thread switches out and in thousands of times a
// second) is still read through once: an entry there from start to end is
// seen, one added or removed meanwhile may or may not be. A walk by
// get_next_key would start again from the first key each time the key it
// stands on is removed.
bool BpfCapture::for_each_off_cpu_task(const std::function<void(const wt_task_key&)>& visit) const {
    const int fd = bpf_map__fd(skel_->maps.off_cpu_threads);
    // Room for the fullest bucket; ENOSPC says a bucket holds more.
    uint32_t room = 256;
    std::vector<uint32_t> tids;
    std::vector<wt_off_cpu> entries;
    uint32_t batch_in = 0;  // where the next batch begins (a bucket)
    uint32_t batch_out = 0;
    bool first = true;
    for (;;) {
        tids.resize(room);
        entries.resize(room);
        uint32_t count = room;
        const int err = bpf_map_lookup_batch(fd, first ? nullptr : &batch_in, &batch_out, tids.data(),
                                             entries.data(), &count, nullptr);
        const int error = err ? errno : 0;
        if (error == ENOSPC && count == 0 && room < (1u << 20)) {
            room *= 4;
            continue;
        }
        if (error && error != ENOENT)
            return false;
        for (uint32_t i = 0; i < count; ++i) {
            if (!entries[i].switch_out_ns)
                continue;  // a closed period: its chain holds what it named
            visit(entries[i].target);
            visit(entries[i].waker.task);
        }
        if (error == ENOENT)
            return true;  // the last batch
        batch_in = batch_out;
        first = false;
    }
}

bool BpfCapture::for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const {
    // Only user space removes chains, and not during this walk (ChainGrowth
    // holds its lock): get_next_key goes through without starting again.
    const bpf_map* map = skel_->maps.chains;
    wt_chain_key current{};
    wt_chain_key next{};
    const wt_chain_key* previous = nullptr;
    int err = 0;
    while ((err = bpf_map__get_next_key(map, previous, &next, sizeof(next))) == 0) {
        visit(next);
        current = next;
        previous = &current;
    }
    return err == -ENOENT;
}

bool BpfCapture::for_each_hop(const std::function<void(const wt_hop&)>& visit) const {
    // The program only adds hops and nobody removes them, so entries never
    // move between buckets: get_next_key reaches every hop there at the start.
    const bpf_map* map = skel_->maps.hops;
    uint32_t current = 0;
    uint32_t next = 0;
    const uint32_t* previous = nullptr;
    wt_hop hop{};
    int err = 0;
    while ((err = bpf_map__get_next_key(map, previous, &next, sizeof(next))) == 0) {
        if (bpf_map__lookup_elem(map, &next, sizeof(next), &hop, sizeof(hop), 0) == 0)
            visit(hop);
        current = next;
        previous = &current;
    }
    return err == -ENOENT;
}

void BpfCapture::forget_announced(uint32_t tgid) noexcept {
    (void)bpf_map__delete_elem(skel_->maps.announced_processes, &tgid, sizeof(tgid), 0);
}

uint64_t BpfCapture::take_stacks(const std::function<void(int32_t, std::vector<uint64_t>)>& visit) {
    const uint64_t taken_short = take_stacks_of(skel_->maps.short_stacks, WT_SHORT_STACK_DEPTH, visit);
    const uint64_t taken_long = take_stacks_of(skel_->maps.long_stacks, WT_MAX_STACK_DEPTH, visit);
    short_stacks_taken_ += taken_short;
    long_stacks_taken_ += taken_long;
    return taken_short + taken_long;
}

uint64_t BpfCapture::take_stacks_of(const bpf_map* map, size_t depth,
                                    const std::function<void(int32_t, std::vector<uint64_t>)>& visit) {
    // Keys first: deleting while walking with get_next_key can restart the walk.
    std::vector<int32_t> ids;
    int32_t next = 0;
    const int32_t* previous = nullptr;
    int32_t current = 0;
    while (bpf_map__get_next_key(map, previous, &next, sizeof(next)) == 0) {
        ids.push_back(next);
        current = next;
        previous = &current;
    }
    uint64_t taken = 0;
    std::vector<uint64_t> frames(depth);
    for (int32_t id : ids) {
        // Visited before it is deleted, so a reader that misses it in the
        // map finds the copy (a stored stack never changes meanwhile).
        if (bpf_map__lookup_elem(map, &id, sizeof(id), frames.data(), frames.size() * sizeof(uint64_t), 0) !=
            0)
            continue;
        visit(id, {frames.begin(), std::find(frames.begin(), frames.end(), 0)});
        if (bpf_map__delete_elem(map, &id, sizeof(id), 0) == 0)
            ++taken;
    }
    return taken;
}

DropCounts BpfCapture::drops() const {
    // The program adds to these atomically while we read them through the mmap.
    DropCounts counts{};
    for (size_t i = 0; i < WT_DROP_NR; ++i)
        counts[i] = __atomic_load_n(&skel_->bss->drops[i], __ATOMIC_RELAXED);
    counts[kDropSkippedRuns] = skipped_runs();
    return counts;
}

uint64_t BpfCapture::skipped_runs() const {
    uint64_t skipped = 0;
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, skel_->obj) {
        const int fd = bpf_program__fd(program);  // -1: not loaded (the other flavour)
        bpf_prog_info info{};
        uint32_t size = sizeof(info);
        if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &size) == 0)
            skipped += info.recursion_misses;
    }
    return skipped;
}

int BpfCapture::process_events_fd() const { return bpf_map__fd(skel_->maps.process_events); }

int BpfCapture::stack_events_fd() const { return bpf_map__fd(skel_->maps.stack_events); }
int BpfCapture::off_cpu_events_fd() const { return bpf_map__fd(skel_->maps.off_cpu_events); }
int BpfCapture::stack_tops_fd() const { return bpf_map__fd(skel_->maps.stack_tops); }

}  // namespace waketrace::detail
