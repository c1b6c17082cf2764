// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace::detail::ProfilerEngine: validates the config, then runs the data
// path capture -> decode -> symbolize/assemble on demand.
#include "profiler_engine.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <unordered_set>

#include "assemble/event_stream.hpp"
#include "assemble/profile_builder.hpp"
#include "capture/chain_growth.hpp"
#include "capture/descriptors.hpp"
#include "capture/kernel_probe.hpp"
#include "capture/libbpf_log.hpp"
#include "capture/loader.hpp"
#include "capture/privileges.hpp"
#include "capture/ring_reader.hpp"
#include "capture/stack_ends.hpp"
#include "decode/event_chains.hpp"
#include "decode/record_references.hpp"
#include "decode/records.hpp"
#include "decode/snapshot_unwinding.hpp"
#include "format/perfetto_trace.hpp"
#include "symbolize/background_preparation.hpp"
#include "symbolize/symbolizer.hpp"
#include "waketrace/options.hpp"

namespace waketrace::detail {
namespace {

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

// The table's bounds are the BPF program's limits.
static_assert(options::kDwarfStackChunk == WT_USER_STACK_CHUNK);
static_assert(options::kMaxDwarfStackBytes == WT_MAX_USER_STACK_BYTES);

// Messages name options by their Config members, which are also Python's
// keywords and the C fields; the command line says them its own way.
void validate(const Config& config) {
    auto invalid = [](const std::string& why) { throw Error(EINVAL, "invalid profiler config: " + why); };
    for (const options::Option& option : options::table)
        if (const std::optional<uint64_t> value = option.get(config))
            if (std::string problem = options::problem(option, option.name, *value); !problem.empty())
                invalid(problem);
#ifndef __x86_64__
    if (config.dwarf_stack_bytes)
        invalid("dwarf_stack_bytes is only implemented for x86_64");
#endif
    if (config.min_block_us > config.max_block_us)
        invalid(fmt::format("min_block_us ({}) is above max_block_us ({})", config.min_block_us,
                            config.max_block_us));
    for (uint32_t pid : config.pids)
        if (pid == 0)
            invalid("pid 0 is the idle task and cannot be profiled");
    for (uint32_t tid : config.tids)
        if (tid == 0)
            invalid("tid 0 is the idle task and cannot be profiled");
    if (config.offcpu && config.wakeup)
        invalid(
            "offcpu and wakeup exclude each other: offcpu keeps only the targets' stacks, wakeup "
            "only the wakers'");
    if ((config.offcpu || config.wakeup) && config.chain_depth > 1)
        invalid(fmt::format("chain_depth {} needs both stacks of every wait: not with {}", config.chain_depth,
                            config.offcpu ? "offcpu" : "wakeup"));
    if (config.offcpu && config.no_waker_user_stacks)
        invalid("no_waker_user_stacks has no wakers to leave out with offcpu");
    if (config.events && config.dwarf_stack_bytes)
        invalid(
            "events and dwarf_stack_bytes cannot be combined yet: --dwarf user stacks are named "
            "only once unwound, after the period's event");
    if (config.cgroups.size() > kMaxCgroups)
        invalid(fmt::format("cgroups lists {} cgroups; at most {} can be traced at once",
                            config.cgroups.size(), kMaxCgroups));
    for (const std::string& cgroup : config.cgroups)
        if (cgroup.empty())
            invalid("cgroups has an empty path");
}

// /proc/N exists for every live process and, unlisted, for every thread.
void require_existing(const std::vector<uint32_t>& ids, const char* what) {
    struct stat st {};
    for (uint32_t id : ids)
        if (stat(fmt::format("/proc/{}", id).c_str(), &st) != 0)
            throw Error(ESRCH, fmt::format("no {} {} is running", what, id));
}

}  // namespace

struct ProfilerEngine::Impl {
    explicit Impl(Config config_in) : config(std::move(config_in)), symbolizer(config.log) {}

    Config config;
    // Declared before the readers, whose threads call into them: destroyed after.
    Symbolizer symbolizer;
    std::unique_ptr<EventChains> event_chains;  // --dwarf mode only
    std::unique_ptr<BpfCapture> capture;
    // Moves the kernel's chains to user space before its map fills.
    std::unique_ptr<ChainGrowth> growth;
    std::unique_ptr<RingReader> process_reader;
    std::unique_ptr<RingReader> stack_event_reader;  // --dwarf mode only
    std::unique_ptr<EventStream> events;             // Config::events only
    // Symbol tables loading while tracing; cancelled when a new start() or
    // the profiler's end comes first.
    std::unique_ptr<BackgroundPreparation> preparation;
    bool running = false;
    uint64_t start_ns = 0;
    uint64_t stop_ns = 0;
    // Where the last drain() left off, so the next reports only what came after.
    uint64_t drained_at_ns = 0;
    DropCounts drained_drops{};
    uint64_t drained_moves = 0;
    EventStream::StackLosses drained_event_losses{};

    // The stacks events could not keep (EventStream::stack_losses) since
    // `since`, into the profile's losses.
    void add_event_losses(Losses& losses, const EventStream::StackLosses& since) const {
        if (!events)
            return;
        const EventStream::StackLosses now = events->stack_losses();
        losses.stack_collisions += now.collisions - since.collisions;
        losses.stack_errors += now.missing - since.missing;
    }

    uint64_t now_or_stop_ns() const { return running ? monotonic_ns() : stop_ns; }
};

ProfilerEngine::ProfilerEngine(Config config) {
    validate(config);
    impl_ = std::make_unique<Impl>(std::move(config));
}

ProfilerEngine::~ProfilerEngine() { stop(); }
ProfilerEngine::ProfilerEngine(ProfilerEngine&&) noexcept = default;
ProfilerEngine& ProfilerEngine::operator=(ProfilerEngine&& other) noexcept {
    if (this != &other) {
        stop();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void ProfilerEngine::start() {
    Impl& impl = *impl_;
    if (impl.running)
        throw Error(EBUSY, "the profiler is already running");
    require_existing(impl.config.pids, "process");
    require_existing(impl.config.tids, "thread");
    require_bpf_privileges();
    require_free_descriptors(kDescriptorsToStart +
                             (impl.config.dwarf_stack_bytes ? kDescriptorsForDwarf : 0));
    // What libbpf prints while this thread starts the profiler goes to its log.
    const LibbpfLogRoute libbpf_log(impl.config.log);
    const KernelFeatures features = probe_kernel();
    if (impl.config.dwarf_stack_bytes && !features.task_pt_regs)
        throw Error(ENOTSUP, "DWARF stacks need the bpf_task_pt_regs helper (Linux 5.15 or later)");

    // Built aside and kept only once attached, so a failed start leaves the
    // previous results readable.
    auto capture = std::make_unique<BpfCapture>(impl.config, features);
    // The library's own threads are not what the user profiles: each leaves
    // itself out of every capture in the process as it starts
    // (support/library_threads.hpp), of this one directly too in case the
    // registry had no memory for it (the capture outlives them all), and
    // sends what libbpf prints on it to the log (the Impl outlives them too).
    auto on_library_thread = [capture = capture.get(), log = &impl.config.log](uint32_t tid) {
        capture->leave_out_thread(tid);
        route_libbpf_messages_until_thread_exit(*log);
    };
    // The processes this run meets are remembered anew (their snapshots
    // taken again): those only earlier runs met are forgotten once attached.
    const uint64_t run = impl.symbolizer.begin_run();
    for (uint32_t pid : impl.config.pids)
        impl.symbolizer.processes().remember(pid);
    // A process is announced again whenever it has more mappings than ever
    // before, and each new thread's stack is a mapping: one starting 10,000
    // threads sends 10,000 announcements, and reading its 20,000-line maps
    // for each took seconds. The maps are read once per batch read from the
    // ring instead (the set lives on the reader thread).
    auto announced = std::make_shared<std::unordered_set<uint32_t>>();
    auto process_reader = std::make_unique<RingReader>(
        capture->process_events_fd(),
        [announced](const void* data, size_t size) {
            if (size >= sizeof(wt_process_event))
                announced->insert(static_cast<const wt_process_event*>(data)->tgid);
        },
        on_library_thread,
        [announced, processes = &impl.symbolizer.processes()] {
            for (uint32_t tgid : *announced)
                processes->remember(tgid);
            announced->clear();
        });
    std::unique_ptr<EventChains> event_chains;
    std::unique_ptr<RingReader> stack_event_reader;
    if (impl.config.dwarf_stack_bytes) {
        event_chains = unwinding_event_chains(impl.symbolizer.processes(),
                                              [ends = std::make_shared<StackEnds>(capture->stack_tops_fd())](
                                                  uint32_t tid, uint64_t thread_start_ns, uint64_t end) {
                                                  ends->set(tid, thread_start_ns, end);
                                              });
        if (impl.config.histograms)
            event_chains->keep_histograms();
        if (impl.config.offcpu)
            event_chains->leave_times_unsplit();
        stack_event_reader = std::make_unique<RingReader>(
            capture->stack_events_fd(),
            [chains = event_chains.get()](const void* data, size_t size) { chains->on_record(data, size); },
            on_library_thread);
    }
    auto growth = std::make_unique<ChainGrowth>(
        *capture, impl.config.max_chains,
        impl.config.stack_sample_percent < 100 ? impl.config.max_off_cpu_threads : 1, impl.config.log);
    std::unique_ptr<EventStream> events;
    if (impl.config.events)
        events = std::make_unique<EventStream>(capture->off_cpu_events_fd(), *growth, impl.symbolizer);
    // Every library thread is started, and has left itself out, before the
    // program attaches. The previous run's preparation goes first: two would
    // only contend for the symbolizer.
    impl.preparation.reset();
    auto preparation =
        std::make_unique<BackgroundPreparation>(impl.symbolizer, impl.config.pids, on_library_thread);
    capture->attach();
    impl.symbolizer.forget_runs_before(run);
    // Replaced before the capture: the old growth reads the old capture,
    // and the old events the old growth.
    impl.events = std::move(events);
    impl.growth = std::move(growth);
    impl.process_reader = std::move(process_reader);
    impl.stack_event_reader = std::move(stack_event_reader);
    impl.event_chains = std::move(event_chains);
    impl.capture = std::move(capture);
    impl.running = true;
    impl.start_ns = impl.drained_at_ns = monotonic_ns();
    impl.drained_drops = {};
    impl.drained_moves = 0;
    impl.drained_event_losses = {};
    impl.preparation = std::move(preparation);
    if (impl.config.log)
        impl.config.log(LogLevel::info, fmt::format("attached to sched_switch and sched_waking ({})",
                                                    impl.capture->uses_tp_btf() ? "tp_btf" : "raw_tp"));
}

void ProfilerEngine::stop() noexcept {
    if (!impl_ || !impl_->running)
        return;
    impl_->capture->detach();
    impl_->growth->stop_watching();
    // Each handles what is still in its ring buffer before it goes.
    impl_->process_reader.reset();
    impl_->stack_event_reader.reset();
    impl_->running = false;
    impl_->stop_ns = monotonic_ns();
}

bool ProfilerEngine::running() const noexcept { return impl_ && impl_->running; }

Profile ProfilerEngine::results() {
    Impl& impl = *impl_;
    if (!impl.capture)
        throw Error(EINVAL, "no results: the profiler was never started");
    if (impl.stack_event_reader)  // --dwarf, running: records waiting for a batch count too
        impl.stack_event_reader->catch_up();
    DecodedProfile decoded = decode_profile(*impl.capture, *impl.growth, impl.event_chains.get());
    Profile profile =
        build_profile(std::move(decoded), to_losses(impl.capture->drops()), impl.config.stack_sample_percent,
                      capture_mode(impl.config), impl.symbolizer);
    profile.duration_ns = impl.now_or_stop_ns() - impl.start_ns;
    profile.chain_map_moves = impl.growth->moves();
    impl.add_event_losses(profile.losses, {});
    return profile;
}

Profile ProfilerEngine::drain() {
    Impl& impl = *impl_;
    if (!impl.capture)
        throw Error(EINVAL, "nothing to drain: the profiler was never started");
    if (impl.stack_event_reader)
        impl.stack_event_reader->catch_up();
    const uint64_t now_ns = impl.now_or_stop_ns();
    const DropCounts drops = impl.capture->drops();
    const uint64_t moves = impl.growth->moves();
    DecodedProfile decoded = take_decoded_profile(*impl.capture, *impl.growth, impl.event_chains.get());
    // What was taken is decoded (the stacks are addresses now): what no
    // record still to be read names can go before naming, which takes long.
    const ForgetOutcome forgot = forget_unreferenced_records(impl);
    DropCounts new_drops{};
    for (size_t i = 0; i < drops.size(); ++i)
        new_drops[i] = drops[i] - impl.drained_drops[i];
    Profile profile =
        build_profile(std::move(decoded), to_losses(new_drops), impl.config.stack_sample_percent,
                      capture_mode(impl.config), impl.symbolizer);
    profile.duration_ns = now_ns - impl.drained_at_ns;
    profile.chain_map_moves = moves - impl.drained_moves;
    impl.add_event_losses(profile.losses, impl.drained_event_losses);
    if (impl.events)
        impl.drained_event_losses = impl.events->stack_losses();
    impl.drained_at_ns = now_ns;
    impl.drained_moves = moves;
    impl.drained_drops = drops;
    forget_after_naming(impl, forgot);
    return profile;
}

// The stacks moved out of the kernel map, --dwarf's snapshots and unwound
// stacks that no record still to be read names (decode/record_references.hpp).
ForgetOutcome ProfilerEngine::forget_unreferenced_records(Impl& impl) noexcept {
    // Events still in their ring name stacks and processes that no record
    // scan can see without taking the events from their reader.
    if (impl.events)
        return {};
    try {
        ForgetOutcome forgot =
            forget_unreferenced(*impl.capture, *impl.growth, impl.event_chains.get(),
                                impl.stack_event_reader.get(), impl.symbolizer.processes());
        if (impl.config.log && !forgot.scanned)
            impl.config.log(LogLevel::debug, "drain: a map could not be read through; nothing forgotten");
        return forgot;
    } catch (...) {
        // Out of memory while scanning: nothing was forgotten, the next
        // drain tries again.
        return {};
    }
}

// Once the drained frames are named: the exited processes the scan found no
// record naming, and the files nothing used for kKeptDrains drains.
void ProfilerEngine::forget_after_naming(Impl& impl, const ForgetOutcome& forgot) noexcept {
    if (impl.events)  // as above: the events not yet read may need them
        return;
    try {
        impl.symbolizer.forget_processes(forgot.exited_processes);
        for (const ProcessRegistry::Exited& process : forgot.exited_processes)
            impl.capture->forget_announced(process.tgid);
        impl.symbolizer.forget_unused_files(kKeptDrains);
        if (impl.config.log &&
            (forgot.stacks_forgotten || forgot.snapshots_forgotten || !forgot.exited_processes.empty()))
            impl.config.log(
                LogLevel::debug,
                fmt::format("drain: forgot {} stacks, {} --dwarf snapshots and {} exited processes "
                            "no record names any more",
                            forgot.stacks_forgotten, forgot.snapshots_forgotten,
                            forgot.exited_processes.size()));
    } catch (...) {
        // Out of memory: kept for now, the next drain tries again.
    }
}

size_t ProfilerEngine::read_events(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms) {
    if (!impl_->events) {
        if (impl_->config.events)
            throw Error(EINVAL, "no events: the profiler was never started");
        throw Error(EINVAL, "no events: the profiler was not configured with events",
                    Hint{"events", "to read events"});
    }
    return impl_->events->read(out, max, timeout_ms);
}

int ProfilerEngine::events_fd() const { return impl_->events ? impl_->events->poll_fd() : -1; }

std::vector<Frame> ProfilerEngine::event_frames(StackId id, uint32_t tgid, bool kernel) {
    return impl_->events ? impl_->events->frames(id, tgid, kernel) : std::vector<Frame>{};
}

std::string ProfilerEngine::perfetto_trace(std::vector<OffCpuEvent> events) {
    EventTrace trace;
    trace.events = std::move(events);
    trace.frames = [this](StackId id, uint32_t tgid, bool kernel) { return event_frames(id, tgid, kernel); };
    trace.realtime_offset_ns = realtime_offset_ns();
    return format_perfetto_trace(trace);
}

ProfilerEngine::Retained ProfilerEngine::retained() const {
    Impl& impl = *impl_;  // the caches lock inside
    Retained held;
    if (impl.growth)
        held.archived_stacks = impl.growth->archived_stacks();
    if (impl.event_chains) {
        held.unwound_stacks = impl.event_chains->unwound_stacks();
        held.pending_snapshots = impl.event_chains->pending_snapshots();
    }
    const Symbolizer::CacheSizes sizes = impl.symbolizer.cache_sizes();
    held.processes = sizes.processes;
    held.pinned_files = sizes.pinned_files;
    held.file_copies = sizes.file_copies;
    held.parsed_files = sizes.parsed_files;
    held.named_images = sizes.named_images;
    held.named_frames = sizes.named_frames;
    held.perf_maps = sizes.perf_maps;
    return held;
}

ProfilerEngine::DwarfCopies ProfilerEngine::dwarf_copies() const {
    if (!impl_ || !impl_->event_chains)
        return {};
    const EventChains::Copies copies = impl_->event_chains->copies();
    return {copies.snapshots, copies.stack_bytes};
}

}  // namespace waketrace::detail
