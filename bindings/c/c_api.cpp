// SPDX-License-Identifier: LGPL-2.1-or-later
// The exported C functions: thin, each body guarded so that no exception
// crosses into C. The struct behind the opaque handle holds the C++ objects
// (profiler_handle.hpp); the event stream's functions are in events.cpp.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "format/format.hpp"
#include "last_error.hpp"
#include "options.hpp"
#include "profile_packing.hpp"
#include "profiler_handle.hpp"
#include "waketrace/c_bridge.hpp"
#include "waketrace/waketrace.h"

namespace wt = waketrace;
using wt::c_api::guarded;
using wt::c_api::guarded_pointer;
using wt::c_api::started;

namespace {

int require(const void* pointer, const char* what) {
    if (!pointer)
        throw wt::Error(EINVAL, std::string(what) + " is NULL");
    return 0;
}

int add_target(wt_profiler* handle, uint32_t id, std::vector<uint32_t> wt::Config::*list, const char* what) {
    return guarded([&] {
        require(handle, "profiler");
        if (handle->engine && handle->engine->running())
            throw wt::Error(EBUSY, std::string("cannot add a ") + what + " while the profiler runs");
        if (id == 0)
            throw wt::Error(EINVAL, std::string(what) + " 0 is the idle task and cannot be profiled");
        (handle->config.*list).push_back(id);
        return 0;
    });
}

// WT_FORMAT_SVG: the widths it opens on come from the format's flags.
std::string flame_graph(const wt::Profile& profile, const wt::FormatOptions& shown, uint32_t format) {
    wt::FlameGraphOptions options;
    options.format = shown;
    if (format & WT_FORMAT_BY_BLOCKED)
        options.metric = wt::FlameMetric::blocked;
    else if (format & WT_FORMAT_BY_RUNQUEUE)
        options.metric = wt::FlameMetric::runqueue;
    return wt::format_flamegraph_svg(profile, options);
}

// WT_FORMAT_PER_PROCESS / WT_FORMAT_PER_THREAD: how tasks are named.
wt::TaskNames task_names(uint32_t format) {
    if ((format & WT_FORMAT_PER_PROCESS) && (format & WT_FORMAT_PER_THREAD))
        throw wt::Error(EINVAL, "WT_FORMAT_PER_PROCESS and WT_FORMAT_PER_THREAD cannot be combined");
    if (format & WT_FORMAT_PER_PROCESS)
        return wt::TaskNames::per_process;
    if (format & WT_FORMAT_PER_THREAD)
        return wt::TaskNames::per_thread;
    return wt::TaskNames::comm;
}

constexpr uint32_t kMetricFlags = WT_FORMAT_BY_BLOCKED | WT_FORMAT_BY_RUNQUEUE;
constexpr uint32_t kNamingFlags = WT_FORMAT_PER_PROCESS | WT_FORMAT_PER_THREAD;
constexpr uint32_t kFormatFlags = WT_FORMAT_DELIMITER | kMetricFlags | kNamingFlags;

// Any layout of wt_profile_format() and wt_profile_format_bytes(), checked.
std::string rendered(const wt_profile* profile, uint32_t format, uint32_t stacks) {
    require(profile, "profile");
    const uint32_t layout = format & ~kFormatFlags;
    if (layout != WT_FORMAT_TEXT && layout != WT_FORMAT_FOLDED && layout != WT_FORMAT_SVG &&
        layout != WT_FORMAT_PPROF)
        throw wt::Error(EINVAL,
                        "format must be WT_FORMAT_TEXT, WT_FORMAT_FOLDED, WT_FORMAT_SVG or WT_FORMAT_PPROF");
    if ((format & kMetricFlags) == kMetricFlags || (layout != WT_FORMAT_SVG && (format & kMetricFlags)))
        throw wt::Error(EINVAL,
                        "WT_FORMAT_BY_BLOCKED or WT_FORMAT_BY_RUNQUEUE (not both) go with WT_FORMAT_SVG");
    if (stacks > WT_STACKS_USER_ONLY)
        throw wt::Error(EINVAL, "stacks must be one of WT_STACKS_*");
    // A profile taken with WT_OPT_HISTOGRAMS shows them in the text layout.
    const wt::FormatOptions options{wt::StackKinds(stacks), (format & WT_FORMAT_DELIMITER) != 0,
                                    task_names(format), true};
    if (layout == WT_FORMAT_PPROF) {
        // With what the block alone holds: file offsets and build-ids.
        wt::PprofOptions pprof;
        pprof.stacks = options.stacks;
        return wt::format_pprof(wt::c_api::unpack_profile(*profile), pprof);
    }
    const wt::Profile unpacked = wt::c_bridge::profile_from(*profile);
    return layout == WT_FORMAT_SVG      ? flame_graph(unpacked, options, format)
           : layout == WT_FORMAT_FOLDED ? wt::format_folded(unpacked, options)
                                        : wt::format_text(unpacked, options);
}

// A malloc'd copy with a NUL after it, which wt_string_free() releases.
char* malloc_copy(const std::string& bytes) {
    char* copy = static_cast<char*>(std::malloc(bytes.size() + 1));
    if (!copy)
        throw std::bad_alloc();
    std::memcpy(copy, bytes.c_str(), bytes.size() + 1);
    return copy;
}

}  // namespace

// Built with hidden visibility; these are the only exceptions, and the
// version script (libwaketrace.map) says which of them are the ABI.
#pragma GCC visibility push(default)
extern "C" {

const char* wt_version(void) { return WAKETRACE_VERSION; }  // meson.build's project version

const char* wt_last_error(void) { return wt::c_api::last_error_message(); }

wt_profiler* wt_profiler_new(const wt_profiler_opts* opts) {
    return guarded_pointer([&] {
        auto handle = std::make_unique<wt_profiler>();
        handle->config = wt::c_api::config_from(opts);
        wt::detail::ProfilerEngine validate_only(handle->config);  // EINVAL now rather than at start
        return handle.release();
    });
}

void wt_profiler_free(wt_profiler* handle) {
    guarded([&] {
        delete handle;  // ~ProfilerEngine stops
        return 0;
    });
}

int wt_profiler_add_pid(wt_profiler* handle, uint32_t pid) {
    return add_target(handle, pid, &wt::Config::pids, "pid");
}

int wt_profiler_add_tid(wt_profiler* handle, uint32_t tid) {
    return add_target(handle, tid, &wt::Config::tids, "tid");
}

int wt_profiler_add_cgroup(wt_profiler* handle, const char* path) {
    return guarded([&] {
        require(handle, "profiler");
        if (handle->engine && handle->engine->running())
            throw wt::Error(EBUSY, "cannot add a cgroup while the profiler runs");
        if (path == nullptr || *path == '\0')
            throw wt::Error(EINVAL, "the cgroup path is empty");
        if (handle->config.cgroups.size() >= wt::kMaxCgroups)
            throw wt::Error(EINVAL, "at most 8 cgroups can be traced at once");
        handle->config.cgroups.emplace_back(path);
        return 0;
    });
}

int wt_profiler_start(wt_profiler* handle) {
    return guarded([&] {
        require(handle, "profiler");
        if (handle->engine && handle->engine->running())
            throw wt::Error(EBUSY, "the profiler is already running");
        auto engine = std::make_unique<wt::detail::ProfilerEngine>(handle->config);
        engine->start();
        handle->engine = std::move(engine);
        return 0;
    });
}

int wt_profiler_stop(wt_profiler* handle) {
    return guarded([&] {
        require(handle, "profiler");
        if (handle->engine)
            handle->engine->stop();
        return 0;
    });
}

wt_profile* wt_profiler_results(wt_profiler* handle) {
    return guarded_pointer([&] { return wt::c_api::pack_profile(started(handle).results()); });
}

wt_profile* wt_profiler_drain(wt_profiler* handle) {
    return guarded_pointer([&] { return wt::c_api::pack_profile(started(handle).drain()); });
}

void wt_profile_free(wt_profile* profile) { wt::c_api::free_profile(profile); }

int wt_frame_source(const wt_profile* profile, const wt_frame* frame, wt_source_location* out) {
    return guarded([&] {
        require(profile, "profile");
        require(frame, "frame");
        require(out, "out");
        // Only fields up to `inlined` exist in 0.2; a later, larger struct
        // gets its newer fields zeroed.
        if (out->sz < offsetof(wt_source_location, inlined) + sizeof(out->inlined))
            throw wt::Error(EINVAL,
                            fmt::format("out->sz ({}) is smaller than struct wt_source_location", out->sz));
        const wt::c_api::FrameDetails* details = wt::c_api::frame_details(*profile, *frame);
        if (!details)
            throw wt::Error(EINVAL, "frame is not part of this profile");
        const size_t sz = out->sz;
        std::memset(out, 0, sz);
        out->sz = sz;
        out->file = details->file;
        out->line = details->line;
        out->inlined = details->inlined;
        return 0;
    });
}

int wt_profile_extra_losses(const wt_profile* profile, wt_extra_losses* out) {
    return guarded([&] {
        require(profile, "profile");
        require(out, "out");
        // Every field up to untraced_children exists since 0.3, the first
        // version of this struct; a later, larger one gets its newer fields
        // zeroed.
        if (out->sz < offsetof(wt_extra_losses, untraced_children) + sizeof(out->untraced_children))
            throw wt::Error(EINVAL,
                            fmt::format("out->sz ({}) is smaller than struct wt_extra_losses", out->sz));
        const wt::c_api::ExtraLosses& losses = wt::c_api::extra_losses(*profile);
        const size_t sz = out->sz;
        std::memset(out, 0, sz);
        out->sz = sz;
        out->chain_states_full = losses.chain_states_full;
        out->hop_map_full = losses.hop_map_full;
        out->hop_collisions = losses.hop_collisions;
        out->untraced_children = losses.untraced_children;
        if (sz >= offsetof(wt_extra_losses, histogram_map_full) + sizeof(out->histogram_map_full))
            out->histogram_map_full = losses.histogram_map_full;  // since 0.4
        if (sz >= offsetof(wt_extra_losses, off_cpu_events) + sizeof(out->off_cpu_events))
            out->off_cpu_events = losses.off_cpu_events;  // since 0.5
        return 0;
    });
}

static_assert(int(wt::CaptureMode::offwake) == WT_MODE_OFFWAKE &&
              int(wt::CaptureMode::offcpu) == WT_MODE_OFFCPU &&
              int(wt::CaptureMode::wakeup) == WT_MODE_WAKEUP);

int wt_profile_mode(const wt_profile* profile) {
    return guarded([&] {
        require(profile, "profile");
        return int(wt::c_api::capture_mode(*profile));
    });
}

int wt_chain_histogram(const wt_profile* profile, const wt_chain* chain, wt_latency_histogram* out) {
    return guarded([&] {
        require(profile, "profile");
        require(chain, "chain");
        require(out, "out");
        // Every field exists since 0.4, the first version of this struct; a
        // later, larger one gets its newer fields zeroed.
        if (out->sz < offsetof(wt_latency_histogram, runqueue) + sizeof(out->runqueue))
            throw wt::Error(EINVAL,
                            fmt::format("out->sz ({}) is smaller than struct wt_latency_histogram", out->sz));
        wt::LatencyHistogram histogram;
        if (!wt::c_api::chain_histogram(*profile, *chain, histogram))
            throw wt::Error(EINVAL, "chain is not part of this profile");
        static_assert(wt::LatencyHistogram::kBuckets == WT_HISTOGRAM_NR_BUCKETS);
        const size_t sz = out->sz;
        std::memset(out, 0, sz);
        out->sz = sz;
        std::copy(histogram.off_cpu.begin(), histogram.off_cpu.end(), out->off_cpu);
        std::copy(histogram.runqueue.begin(), histogram.runqueue.end(), out->runqueue);
        return 0;
    });
}

char* wt_profile_format(const wt_profile* profile, uint32_t format, uint32_t stacks) {
    return guarded_pointer([&]() -> char* {
        if ((format & ~kFormatFlags) == WT_FORMAT_PPROF)
            throw wt::Error(EINVAL, "WT_FORMAT_PPROF is binary: render it with wt_profile_format_bytes()");
        return malloc_copy(rendered(profile, format, stacks));
    });
}

char* wt_profile_format_bytes(const wt_profile* profile, uint32_t format, uint32_t stacks, size_t* size) {
    return guarded_pointer([&]() -> char* {
        require(size, "size");
        const std::string bytes = rendered(profile, format, stacks);
        char* copy = malloc_copy(bytes);
        *size = bytes.size();
        return copy;
    });
}

void wt_string_free(char* string) { std::free(string); }

}  // extern "C"
#pragma GCC visibility pop
