// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: the C ABI (waketrace.h) in C++ terms, for the
// header-only Profiler (waketrace/profiler.hpp) and for the library's own
// wt_profile_format(). Options go out as a wt_profiler_opts, results come
// back as a Profile, failures as a waketrace::Error. Everything here is
// inline and calls only the exported C functions, so a program built with it
// needs nothing from libwaketrace.so but its versioned C symbols.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <waketrace/config.hpp>
#include <waketrace/error.hpp>
#include <waketrace/events.hpp>
#include <waketrace/options.hpp>
#include <waketrace/profile.hpp>
#include <waketrace/waketrace.h>

namespace waketrace::c_bridge {

// The C constants are the C++ enums' values, so one converts to the other
// by a cast.
static_assert(WT_THREADS_ALL == int(ThreadKind::all) && WT_THREADS_USER_ONLY == int(ThreadKind::user_only) &&
              WT_THREADS_KERNEL_ONLY == int(ThreadKind::kernel_only));
static_assert(WT_STACKS_BOTH == int(StackKinds::both) &&
              WT_STACKS_KERNEL_ONLY == int(StackKinds::kernel_only) &&
              WT_STACKS_USER_ONLY == int(StackKinds::user_only));
static_assert(WT_ATTACH_AUTO == int(AttachMode::automatic) && WT_ATTACH_TP_BTF == int(AttachMode::tp_btf) &&
              WT_ATTACH_RAW_TP == int(AttachMode::raw_tp));
static_assert(WT_LOG_DEBUG == int(LogLevel::debug) && WT_LOG_INFO == int(LogLevel::info) &&
              WT_LOG_WARNING == int(LogLevel::warning));
static_assert(WT_WAKER_TASK == int(WakerContext::task) && WT_WAKER_HARDIRQ == int(WakerContext::hardirq) &&
              WT_WAKER_SOFTIRQ == int(WakerContext::softirq) && WT_WAKER_NMI == int(WakerContext::nmi) &&
              WT_WAKER_PREEMPTED == int(WakerContext::preempted) &&
              WT_WAKER_UNSEEN == int(WakerContext::unseen));
static_assert(WT_STACK_OK == int(StackStatus::ok) &&
              WT_STACK_NOT_CAPTURED == int(StackStatus::not_captured) &&
              WT_STACK_IRQ_DROPPED == int(StackStatus::irq_dropped) &&
              WT_STACK_COLLISION == int(StackStatus::collision) &&
              WT_STACK_MAP_FULL == int(StackStatus::map_full) && WT_STACK_ERROR == int(StackStatus::error));
static_assert(WT_CHAIN_COMPLETE == int(ChainEnd::complete) &&
              WT_CHAIN_DEPTH_REACHED == int(ChainEnd::depth_reached) &&
              WT_CHAIN_WAKER_UNTRACED == int(ChainEnd::waker_untraced) &&
              WT_CHAIN_WAKER_LOST == int(ChainEnd::waker_lost));

// The Error a failed C call stands for, from its errno and wt_last_error().
// The library words that message for C callers (bindings/c/last_error.cpp):
// it ends in ": <strerror text>", which Error adds again, and it names an
// option to set as " (set wt_profiler_opts.NAME PURPOSE)", which comes back
// as a Hint, so that what() says Config::NAME as in-tree C++ callers see it.
inline Error error_from(int errno_value, std::string_view message) {
    if (errno_value <= 0)
        errno_value = EIO;
    const std::string errno_text = ": " + std::generic_category().message(errno_value);
    if (message.size() >= errno_text.size() &&
        message.substr(message.size() - errno_text.size()) == errno_text)
        message.remove_suffix(errno_text.size());
    constexpr std::string_view kAdvice = " (set wt_profiler_opts.";
    const size_t advice_at = message.rfind(kAdvice);
    if (advice_at != std::string_view::npos && message.back() == ')') {
        std::string_view advice = message.substr(advice_at + kAdvice.size());
        advice.remove_suffix(1);  // ")"
        const size_t space = advice.find(' ');
        if (space != 0 && space != std::string_view::npos)
            return Error(errno_value, std::string(message.substr(0, advice_at)),
                         Hint{std::string(advice.substr(0, space)), std::string(advice.substr(space + 1))});
    }
    return Error(errno_value, message.empty() ? "libwaketrace failed" : std::string(message));
}

// For C calls returning 0 / a negative errno.
inline int checked(int result) {
    if (result < 0)
        throw error_from(-result, wt_last_error());
    return result;
}

// For C calls returning NULL with errno set; errno is read before anything
// else can change it.
template <typename T>
T* checked(T* pointer) {
    if (!pointer) {
        const int errno_value = errno;
        throw error_from(errno_value, wt_last_error());
    }
    return pointer;
}

struct FreeProfiler {
    void operator()(wt_profiler* profiler) const noexcept { wt_profiler_free(profiler); }
};
struct FreeProfile {
    void operator()(wt_profile* profile) const noexcept { wt_profile_free(profile); }
};
struct FreeString {
    void operator()(char* string) const noexcept { wt_string_free(string); }
};
struct FreeStack {
    void operator()(wt_stack* stack) const noexcept { wt_stack_free(stack); }
};

using LogFunction = std::function<void(LogLevel, std::string_view)>;

// A wt_log_fn whose context is a LogFunction. It may run on the library's
// threads; an exception from the caller's function must not unwind into C,
// so it ends here.
inline void call_log(void* context, uint32_t level, const char* message) noexcept {
    try {
        (*static_cast<const LogFunction*>(context))(LogLevel(level), message ? message : "");
    } catch (...) {
    }
}

// Config -> wt_profiler_opts, but for the targets (Config::pids and tids go
// through wt_profiler_add_pid/tid) and the log function (set by whoever owns
// it, as its address is the context). Every option of options::table goes
// through one loop, as the C binding reads them back. The C struct reads 0
// as "the default" where Config means 0 itself; such values are rejected
// here, as the library rejects them from C++ (EINVAL), except where 0 is
// within the option's bounds (min_block_us), which C then reads as its
// default (1 us: off-CPU periods under a microsecond are dropped).
inline void store_option(wt_profiler_opts& opts, const options::Option& option, uint64_t value) {
    unsigned char* field = reinterpret_cast<unsigned char*>(&opts) + option.c_offset;
    if (option.c_size == sizeof(uint32_t)) {
        const uint32_t narrow = uint32_t(value);  // in range: the table's bounds say so
        std::memcpy(field, &narrow, sizeof(narrow));
    } else {
        std::memcpy(field, &value, sizeof(value));
    }
}

inline wt_profiler_opts options_from(const Config& config) {
    wt_profiler_opts opts{};
    opts.sz = sizeof(opts);
    opts.threads = uint32_t(config.threads);
    opts.stacks = uint32_t(config.stacks);
    opts.attach = uint32_t(config.attach);
    for (const options::Option& option : options::table) {
        const std::optional<uint64_t> value = option.get(config);
        if (!value)
            continue;  // an optional number left unset
        switch (option.kind) {
        case options::Kind::flag:
            if (*value)
                opts.flags |= option.c_flag;
            break;
        case options::Kind::optional_number:
            opts.flags |= option.c_flag;
            store_option(opts, option, *value);
            break;
        case options::Kind::number:
            if (*value == 0 && option.zero_means.empty() && option.min > 0)
                throw Error(EINVAL, "invalid profiler config: " + options::problem(option, option.name, 0));
            store_option(opts, option, *value);
            break;
        }
    }
    return opts;
}

inline Task task_from(const wt_task& task) { return Task{task.tid, task.tgid, task.comm ? task.comm : ""}; }

// Source lines and inline marks are not in wt_frame (which cannot grow):
// wt_frame_source() gives them, for frames of `profile`.
inline Stack stack_from(const wt_profile& profile, const wt_stack& stack) {
    Stack out;
    out.status = StackStatus(stack.status);
    out.error = stack.error;
    out.frames.reserve(stack.nr_frames);
    for (size_t i = 0; i < stack.nr_frames; ++i) {
        const wt_frame& frame = stack.frames[i];
        Frame& copy = out.frames.emplace_back();
        copy.address = frame.address;
        copy.offset = frame.offset;
        copy.symbol = frame.symbol ? frame.symbol : "";
        copy.module = frame.module ? frame.module : "";
        wt_source_location where{};
        where.sz = sizeof(where);
        checked(wt_frame_source(&profile, &frame, &where));
        copy.file = where.file ? where.file : "";
        copy.line = where.line;
        copy.inlined = where.inlined != 0;
    }
    return out;
}

// blocked_stacks is NULL unless a deeper level exists (chain_depth > 1); a
// library older than 0.3 leaves it NULL and overlap_ns 0.
inline Waker waker_from(const wt_profile& profile, const wt_waker& waker) {
    Waker out;
    out.context = WakerContext(waker.context);
    out.task = task_from(waker.task);
    out.kernel_stack = stack_from(profile, waker.kernel_stack);
    out.user_stack = stack_from(profile, waker.user_stack);
    if (waker.blocked_stacks) {
        out.blocked_kernel_stack = stack_from(profile, waker.blocked_stacks[0]);
        out.blocked_user_stack = stack_from(profile, waker.blocked_stacks[1]);
    }
    out.overlap_ns = waker.overlap_ns;
    out.outside_filters = (waker.flags & WT_WAKER_F_OUTSIDE_FILTERS) != 0;
    return out;
}

inline WakeChain chain_from(const wt_profile& profile, const wt_chain& chain) {
    WakeChain out;
    out.target = task_from(chain.target);
    out.kernel_stack = stack_from(profile, chain.kernel_stack);
    out.user_stack = stack_from(profile, chain.user_stack);
    out.wakers.reserve(chain.nr_wakers);
    for (size_t i = 0; i < chain.nr_wakers; ++i)
        out.wakers.push_back(waker_from(profile, chain.wakers[i]));
    out.end = ChainEnd(chain.end);
    out.total_ns = chain.total_ns;
    out.blocked_ns = chain.blocked_ns;
    out.runqueue_ns = chain.runqueue_ns;
    out.max_ns = chain.max_ns;
    out.count = chain.count;
    static_assert(LatencyHistogram::kBuckets == WT_HISTOGRAM_NR_BUCKETS, "one bucket layout");
    wt_latency_histogram histogram{};
    histogram.sz = sizeof(histogram);
    checked(wt_chain_histogram(&profile, &chain, &histogram));
    std::copy(std::begin(histogram.off_cpu), std::end(histogram.off_cpu), out.histogram.off_cpu.begin());
    std::copy(std::begin(histogram.runqueue), std::end(histogram.runqueue), out.histogram.runqueue.begin());
    return out;
}

inline Losses losses_from(const wt_profile& profile) {
    const wt_losses& losses = profile.losses;
    Losses out;
    out.stack_collisions = losses.stack_collisions;
    out.stack_map_full = losses.stack_map_full;
    out.stack_errors = losses.stack_errors;
    out.chain_map_full = losses.chain_map_full;
    out.missed_switch_outs = losses.missed_switch_outs;
    out.process_events = losses.process_events;
    out.thread_map_full = losses.thread_map_full;
    out.user_stack_events = losses.user_stack_events;
    out.period_events = losses.period_events;
    out.missed_switch_ins = losses.missed_switch_ins;
    out.skipped_runs = profile.skipped_runs;  // outside wt_losses, which had no room left
    // wt_profile has no room left either: the library keeps these beside it.
    wt_extra_losses extra_losses{};
    extra_losses.sz = sizeof(extra_losses);
    checked(wt_profile_extra_losses(&profile, &extra_losses));
    out.chain_states_full = extra_losses.chain_states_full;
    out.hop_map_full = extra_losses.hop_map_full;
    out.hop_collisions = extra_losses.hop_collisions;
    out.untraced_children = extra_losses.untraced_children;
    out.histogram_map_full = extra_losses.histogram_map_full;
    out.off_cpu_events = extra_losses.off_cpu_events;
    return out;
}

// An event of wt_profiler_read_events() (0.5) as C++ values.
inline OffCpuEvent event_from(const wt_event& event) {
    auto comm = [](const char(&text)[16]) { return std::string(text, strnlen(text, sizeof(text))); };
    OffCpuEvent out;
    out.target = Task{event.target_tid, event.target_tgid, comm(event.target_comm)};
    out.switch_out_ns = event.switch_out_ns;
    out.waking_ns = event.waking_ns;
    out.switch_in_ns = event.switch_in_ns;
    out.state = event.state;
    out.waker_context = WakerContext(event.waker_context);
    out.waker = Task{event.waker_tid, event.waker_tgid, comm(event.waker_comm)};
    out.waker_outside_filters = (event.waker_flags & WT_WAKER_F_OUTSIDE_FILTERS) != 0;
    out.triggered = (event.flags & WT_EVENT_F_TRIGGERED) != 0;
    out.target_kernel_stack = event.target_kernel_stack;
    out.target_user_stack = event.target_user_stack;
    out.waker_kernel_stack = event.waker_kernel_stack;
    out.waker_user_stack = event.waker_user_stack;
    return out;
}

// The other way, for wt_profiler_perfetto_trace() (and the library's own
// wt_profiler_read_events()).
inline wt_event event_to_c(const OffCpuEvent& event) {
    auto comm = [](char(&out)[16], const std::string& text) {
        const size_t length = std::min(text.size(), sizeof(out) - 1);
        std::memcpy(out, text.data(), length);
        std::memset(out + length, 0, sizeof(out) - length);
    };
    wt_event out{};
    out.switch_out_ns = event.switch_out_ns;
    out.waking_ns = event.waking_ns;
    out.switch_in_ns = event.switch_in_ns;
    out.target_tid = event.target.tid;
    out.target_tgid = event.target.tgid;
    comm(out.target_comm, event.target.comm);
    out.state = event.state;
    out.waker_context = uint32_t(event.waker_context);
    out.waker_tid = event.waker.tid;
    out.waker_tgid = event.waker.tgid;
    comm(out.waker_comm, event.waker.comm);
    out.waker_flags = event.waker_outside_filters ? WT_WAKER_F_OUTSIDE_FILTERS : 0;
    out.flags = event.triggered ? WT_EVENT_F_TRIGGERED : 0;
    out.target_kernel_stack = event.target_kernel_stack;
    out.target_user_stack = event.target_user_stack;
    out.waker_kernel_stack = event.waker_kernel_stack;
    out.waker_user_stack = event.waker_user_stack;
    return out;
}

// A stack of wt_profiler_event_stack(): its frames without source lines
// (wt_frame_source() reads those from a wt_profile only).
inline Stack event_stack_from(const wt_stack& stack) {
    Stack out;
    out.status = StackStatus(stack.status);
    out.error = stack.error;
    for (size_t i = 0; i < stack.nr_frames; ++i) {
        Frame& copy = out.frames.emplace_back();
        copy.address = stack.frames[i].address;
        copy.offset = stack.frames[i].offset;
        copy.symbol = stack.frames[i].symbol ? stack.frames[i].symbol : "";
        copy.module = stack.frames[i].module ? stack.frames[i].module : "";
    }
    return out;
}

// A profile the library made (wt_profiler_results / _drain) as C++ values.
inline Profile profile_from(const wt_profile& profile) {
    Profile out;
    out.chains.reserve(profile.nr_chains);
    for (size_t i = 0; i < profile.nr_chains; ++i)
        out.chains.push_back(chain_from(profile, profile.chains[i]));
    out.threads.reserve(profile.nr_threads);
    for (size_t i = 0; i < profile.nr_threads; ++i) {
        const wt_thread_total& thread = profile.threads[i];
        out.threads.push_back(ThreadTotal{task_from(thread.task), thread.total_ns, thread.blocked_ns,
                                          thread.runqueue_ns, thread.max_ns, thread.count});
    }
    out.stack_sample_percent = profile.stack_sample_percent;
    out.mode = CaptureMode(wt_profile_mode(&profile));
    out.losses = losses_from(profile);
    out.duration_ns = profile.duration_ns;
    out.chain_map_moves = profile.chain_map_moves;
    return out;
}

}  // namespace waketrace::c_bridge
