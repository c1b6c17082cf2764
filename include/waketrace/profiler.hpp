// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: why threads were not running, and who woke them.
//
//     waketrace::Config config;
//     config.tids = {worker_tid};
//     config.chain_depth = 4;                 // and who woke the waker, up to 4 levels
//     waketrace::Profiler profiler(config);   // throws waketrace::Error (EINVAL)
//     profiler.start();                       // Error with errno and what to do
//     ... run the workload ...
//     profiler.stop();
//     waketrace::CapturedProfile captured = profiler.results();
//     for (const waketrace::WakeChain& chain : captured.profile().chains) ...
//         // chain.wakers[0] woke the target, wakers[i + 1] woke wakers[i];
//         // chain.end says why the chain stops there
//     std::string folded = captured.folded();  // for flamegraph.pl
//
// Header-only, over the stable C ABI (waketrace.h): build with C++17 and
// `pkg-config --cflags --libs waketrace`. The C++ types are compiled into the
// program and libwaketrace.so exports only versioned C symbols, so a program
// built against this header keeps working with later libwaketrace.so.0.
//
// Thread safety: one Profiler may be used from one thread at a time; separate
// Profilers are independent (they share no state and may run at once). A
// CapturedProfile is immutable: any threads may read and format it at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <waketrace/c_bridge.hpp>
#include <waketrace/config.hpp>
#include <waketrace/error.hpp>
#include <waketrace/events.hpp>
#include <waketrace/profile.hpp>
#include <waketrace/waketrace.h>

namespace waketrace {

// What Profiler::results() and drain() return: the profile as C++ values,
// and the library's own copy of it, from which text() and folded() render
// the waketrace command's layouts. Copies share that library copy.
class CapturedProfile {
public:
    const Profile& profile() const& noexcept { return profile_; }
    // From a temporary (profiler.results().profile()): a Profile of its own.
    Profile profile() && { return std::move(profile_); }

    // offwaketime's default layout (the waketrace command's output), and its
    // -f layout, one folded line per chain for flamegraph.pl. delimiter
    // (offwaketime -d): a "-" between the user and the kernel part of each
    // stack. Stacks the Config did not ask for are left out, not shown as
    // missing. Throws Error (ENOMEM).
    std::string text(bool delimiter = false) const { return formatted(WT_FORMAT_TEXT, delimiter); }
    std::string folded(bool delimiter = false) const { return formatted(WT_FORMAT_FOLDED, delimiter); }
    // The folded layout's chains as an interactive flame graph: one
    // self-contained SVG document (WT_FORMAT_SVG) that opens on total
    // off-CPU time and switches to blocked and runqueue time in a browser.
    std::string flamegraph_svg() const { return formatted(WT_FORMAT_SVG, false); }
    // The chains as a gzipped pprof profile (WT_FORMAT_PPROF): bytes, to
    // write to a file for `go tool pprof`, Pyroscope or Parca. Needs
    // libwaketrace.so 0.4 or later. Throws Error (ENOMEM).
    std::string pprof() const {
        size_t size = 0;
        const std::unique_ptr<char, c_bridge::FreeString> bytes(c_bridge::checked(
            wt_profile_format_bytes(packed_.get(), WT_FORMAT_PPROF, uint32_t(stacks_), &size)));
        return std::string(bytes.get(), size);
    }

private:
    friend class Profiler;
    // Takes ownership of `packed`, a wt_profile of a profiler with Config::stacks `stacks`.
    CapturedProfile(wt_profile* packed, StackKinds stacks)
        : packed_(packed, c_bridge::FreeProfile{}),
          stacks_(stacks),
          profile_(c_bridge::profile_from(*packed_)) {}

    std::string formatted(uint32_t layout, bool delimiter) const {
        const std::unique_ptr<char, c_bridge::FreeString> text(c_bridge::checked(wt_profile_format(
            packed_.get(), layout | (delimiter ? WT_FORMAT_DELIMITER : 0u), uint32_t(stacks_))));
        return text.get();
    }

    std::shared_ptr<const wt_profile> packed_;
    StackKinds stacks_;
    Profile profile_;
};

// Profiles off-CPU time and wake-ups of the threads a Config selects.
class Profiler {
public:
    // Validates the config and creates the library's profiler; no kernel
    // work yet. Throws Error: EINVAL (the message names the field), ENOMEM.
    // Config::log, when set, is called from the library's threads too, also
    // while stop() and the destructor run; an exception it throws is dropped.
    explicit Profiler(Config config) : state_(std::make_unique<State>()) {
        State& state = *state_;
        state.config = std::move(config);
        wt_profiler_opts opts = c_bridge::options_from(state.config);
        if (state.config.log) {
            opts.log = &c_bridge::call_log;
            opts.log_ctx = &state.config.log;  // on the heap: stays put when the Profiler moves
        }
        state.handle.reset(c_bridge::checked(wt_profiler_new(&opts)));
        for (uint32_t pid : state.config.pids)
            c_bridge::checked(wt_profiler_add_pid(state.handle.get(), pid));
        for (uint32_t tid : state.config.tids)
            c_bridge::checked(wt_profiler_add_tid(state.handle.get(), tid));
        for (const std::string& cgroup : state.config.cgroups)
            c_bridge::checked(wt_profiler_add_cgroup(state.handle.get(), cgroup.c_str()));
    }
    // Stops; profiles already returned stay valid.
    ~Profiler() = default;
    Profiler(Profiler&&) noexcept = default;
    Profiler& operator=(Profiler&&) noexcept = default;
    Profiler(const Profiler&) = delete;
    Profiler& operator=(const Profiler&) = delete;

    // Loads and attaches the BPF program. Throws Error: EPERM (a missing
    // capability, named in the message), ENOTSUP (no BTF, or --dwarf on a
    // kernel before 5.15), ESRCH (a pid or tid does not exist), EBUSY
    // (already running), EMFILE (too few file descriptors left), or the
    // libbpf error; when setting an option would tell more, hint() names it
    // (Config::log for the verifier's log). Starting again after stop()
    // begins a new run: results() then holds only what came after.
    void start() {
        State& state = live_state();
        c_bridge::checked(wt_profiler_start(state.handle.get()));
        state.running = true;
    }
    // Detaches. Idempotent; results() stays readable afterwards.
    void stop() noexcept {
        if (!state_)
            return;
        wt_profiler_stop(state_->handle.get());  // fails only for a NULL profiler
        state_->running = false;
    }
    bool running() const noexcept { return state_ && state_->running; }

    // Reads, symbolizes and returns what was captured since start(). Valid
    // while running (a snapshot) and after stop(). Throws Error: EINVAL
    // before start(), ENOMEM.
    CapturedProfile results() {
        State& state = live_state();
        return CapturedProfile(c_bridge::checked(wt_profiler_results(state.handle.get())),
                               state.config.stacks);
    }
    // Like results(), then forgets the chains returned, so the next drain()
    // returns only what came after: for exporting every N seconds while
    // running. Losses and duration are those since the previous drain (or
    // start). Throws Error: EINVAL before start(), ENOMEM.
    CapturedProfile drain() {
        State& state = live_state();
        return CapturedProfile(c_bridge::checked(wt_profiler_drain(state.handle.get())), state.config.stacks);
    }

    // Config::events (libwaketrace.so 0.5 or later): the off-CPU periods
    // that ended since the last call, oldest first, at most `max`; when none
    // waits, waits up to `timeout_ms` (0: not at all, -1: until one comes).
    // May be called from one other thread while this one runs the profiler,
    // and after stop() for what is left. Events the kernel's ring had no
    // room for are counted in Losses::off_cpu_events. Throws Error (EINVAL
    // without Config::events or before start()).
    std::vector<OffCpuEvent> read_events(size_t max = 1024, int timeout_ms = 0) {
        State& state = live_state();
        std::vector<wt_event> read(max);
        const int count = c_bridge::checked(
            wt_profiler_read_events(state.handle.get(), read.data(), sizeof(wt_event), max, timeout_ms));
        std::vector<OffCpuEvent> events;
        events.reserve(size_t(count));
        for (int i = 0; i < count; ++i)
            events.push_back(c_bridge::event_from(read[size_t(i)]));
        return events;
    }
    // For poll()/epoll: readable when a batch of events waits (read every
    // 50 ms or so all the same). Throws Error (EINVAL) without events.
    int events_fd() const {
        if (!state_)
            throw Error(EINVAL, "this Profiler was moved from");
        return c_bridge::checked(wt_profiler_events_fd(state_->handle.get()));
    }
    // The frames of an event's stack: the event's target's tgid for
    // target_user_stack, its waker's for waker_user_stack, kernel for the
    // kernel stacks. A negative id gives its status and no frames.
    Stack event_stack(StackId id, uint32_t tgid, bool kernel) {
        State& state = live_state();
        const std::unique_ptr<wt_stack, c_bridge::FreeStack> stack(
            c_bridge::checked(wt_profiler_event_stack(state.handle.get(), id, tgid, kernel ? 1 : 0)));
        return c_bridge::event_stack_from(*stack);
    }

    // Events read from this Profiler as a Perfetto trace (bytes, to write to
    // a .pftrace file for ui.perfetto.dev), as waketrace --perfetto writes
    // it. Throws Error (EINVAL without events, ENOMEM).
    std::string perfetto_trace(const std::vector<OffCpuEvent>& events) {
        State& state = live_state();
        std::vector<wt_event> packed;
        packed.reserve(events.size());
        for (const OffCpuEvent& event : events)
            packed.push_back(c_bridge::event_to_c(event));
        size_t size = 0;
        const std::unique_ptr<char, c_bridge::FreeString> bytes(c_bridge::checked(wt_profiler_perfetto_trace(
            state.handle.get(), packed.data(), sizeof(wt_event), packed.size(), &size)));
        return std::string(bytes.get(), size);
    }

private:
    struct State {
        Config config;
        // Declared after config, so destroyed first: the library's threads,
        // which may call config.log, end before it does.
        std::unique_ptr<wt_profiler, c_bridge::FreeProfiler> handle;
        bool running = false;
    };

    State& live_state() {
        if (!state_)
            throw Error(EINVAL, "this Profiler was moved from");
        return *state_;
    }

    std::unique_ptr<State> state_;
};

}  // namespace waketrace
