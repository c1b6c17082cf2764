// SPDX-License-Identifier: LGPL-2.1-or-later
#include "profile_packing.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include "waketrace/c_bridge.hpp"
#include "waketrace/error.hpp"

namespace waketrace::c_api {
namespace {

// In front of the wt_profile we hand out: where every frame's details are,
// and the counters wt_profile had no room for.
struct BlockHeader {
    const wt_frame* frames;
    const FrameDetails* details;
    size_t nr_frames;
    ExtraLosses extra_losses;
    // Parallel to wt_profile.chains; null when no chain has a histogram
    // (profiled without histograms), which saves their room.
    const LatencyHistogram* histograms;
    CaptureMode mode;  // wt_profile_mode()
};
// Keeps the wt_profile behind it aligned like malloc's result.
constexpr size_t kHeaderSize = (sizeof(BlockHeader) + alignof(std::max_align_t) - 1) /
                               alignof(std::max_align_t) * alignof(std::max_align_t);

size_t round_up(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }

// Hands out pieces of one block. The same code runs twice: first with no
// block, only adding up sizes, then for real into a block of that size.
class Arena {
public:
    explicit Arena(char* base = nullptr) : base_(base) {}

    template <typename T>
    T* take(size_t count) {
        used_ = (used_ + alignof(T) - 1) / alignof(T) * alignof(T);
        T* items = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
        used_ += count * sizeof(T);
        for (size_t i = 0; items && i < count; ++i)
            new (&items[i]) T{};
        return items;
    }

    const char* copy(const std::string& text) {
        char* copied = take<char>(text.size() + 1);
        if (copied)
            std::memcpy(copied, text.c_str(), text.size() + 1);
        return copied;
    }

    size_t used() const { return used_; }

private:
    char* base_;
    size_t used_ = 0;
};

// Every stack's frames come from one array, with their details in a
// parallel one, so wt_frame_source() can go from a wt_frame to its details
// (wt_frame itself cannot grow: callers index arrays of it).
class FrameSlots {
public:
    FrameSlots() = default;
    FrameSlots(wt_frame* frames, FrameDetails* details) : frames_(frames), details_(details) {}

    // `count` consecutive frames and their details; null while sizing.
    std::pair<wt_frame*, FrameDetails*> take(size_t count) {
        const size_t first = used_;
        used_ += count;
        if (!frames_)
            return {nullptr, nullptr};
        return {frames_ + first, details_ + first};
    }
    size_t used() const { return used_; }

private:
    wt_frame* frames_ = nullptr;
    FrameDetails* details_ = nullptr;
    size_t used_ = 0;
};

struct Packer {
    Arena arena;
    FrameSlots slots;
    const LatencyHistogram* histograms = nullptr;  // set by pack_into()
};

bool any_histogram(const Profile& profile) {
    return std::any_of(profile.chains.begin(), profile.chains.end(),
                       [](const WakeChain& chain) { return chain.histogram.count() != 0; });
}

void pack_stack(Packer& packer, const Stack& stack, wt_stack* out) {
    auto [frames, details] = packer.slots.take(stack.frames.size());
    for (size_t i = 0; i < stack.frames.size(); ++i) {
        const Frame& frame = stack.frames[i];
        const char* symbol = frame.resolved() ? packer.arena.copy(frame.symbol) : nullptr;
        const char* module = packer.arena.copy(frame.module);
        const char* file = frame.file.empty() ? nullptr : packer.arena.copy(frame.file);
        const char* build_id = packer.arena.copy(frame.build_id);
        if (frames) {
            frames[i] = {frame.address, frame.offset, symbol, module};
            details[i] = {file,
                          frame.line,
                          frame.inlined,
                          build_id,
                          frame.file_offset.value_or(0),
                          frame.file_offset.has_value()};
        }
    }
    if (out)
        *out = {uint32_t(stack.status), stack.error, stack.frames.size(), frames};
}

void pack_task(Packer& packer, const Task& task, wt_task* out) {
    const char* comm = packer.arena.copy(task.comm);
    if (out)
        *out = {task.tid, task.tgid, comm};
}

bool has_blocked_stacks(const Waker& waker) {
    return waker.blocked_kernel_stack.status != StackStatus::not_captured ||
           waker.blocked_user_stack.status != StackStatus::not_captured;
}

// The two blocked stacks ([0] kernel, [1] user) go in a pair of their own,
// pointed to from wt_waker, which had room for a pointer but not for two
// stacks. NULL when the waker is the last level and has none, so a C caller
// tells "no deeper level" apart from "a level whose stacks were lost".
void pack_waker(Packer& packer, const Waker& waker, bool deeper_level, wt_waker* out) {
    wt_stack* blocked = nullptr;
    const bool with_blocked = deeper_level || has_blocked_stacks(waker);
    if (with_blocked)
        blocked = packer.arena.take<wt_stack>(2);
    pack_task(packer, waker.task, out ? &out->task : nullptr);
    pack_stack(packer, waker.kernel_stack, out ? &out->kernel_stack : nullptr);
    pack_stack(packer, waker.user_stack, out ? &out->user_stack : nullptr);
    if (with_blocked) {
        pack_stack(packer, waker.blocked_kernel_stack, blocked ? &blocked[0] : nullptr);
        pack_stack(packer, waker.blocked_user_stack, blocked ? &blocked[1] : nullptr);
    }
    if (!out)
        return;
    out->context = uint32_t(waker.context);
    out->overlap_ns = waker.overlap_ns;
    out->blocked_stacks = blocked;
    out->flags = waker.outside_filters ? WT_WAKER_F_OUTSIDE_FILTERS : 0;
}

void pack_chain(Packer& packer, const WakeChain& chain, wt_chain* out) {
    wt_waker* wakers = packer.arena.take<wt_waker>(chain.wakers.size());
    for (size_t i = 0; i < chain.wakers.size(); ++i)
        pack_waker(packer, chain.wakers[i], i + 1 < chain.wakers.size(), wakers ? &wakers[i] : nullptr);
    pack_task(packer, chain.target, out ? &out->target : nullptr);
    pack_stack(packer, chain.kernel_stack, out ? &out->kernel_stack : nullptr);
    pack_stack(packer, chain.user_stack, out ? &out->user_stack : nullptr);
    if (!out)
        return;
    out->nr_wakers = chain.wakers.size();
    out->wakers = wakers;
    out->total_ns = chain.total_ns;
    out->blocked_ns = chain.blocked_ns;
    out->runqueue_ns = chain.runqueue_ns;
    out->max_ns = chain.max_ns;
    out->count = chain.count;
    out->end = uint32_t(chain.end);
}

wt_losses pack_losses(const Losses& losses) {
    wt_losses out{};
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
    return out;
}

void pack_thread(Packer& packer, const ThreadTotal& thread, wt_thread_total* out) {
    pack_task(packer, thread.task, out ? &out->task : nullptr);
    if (!out)
        return;
    out->total_ns = thread.total_ns;
    out->blocked_ns = thread.blocked_ns;
    out->runqueue_ns = thread.runqueue_ns;
    out->max_ns = thread.max_ns;
    out->count = thread.count;
}

wt_profile* pack_into(Packer& packer, const Profile& profile) {
    wt_profile* out = packer.arena.take<wt_profile>(1);
    wt_chain* chains = packer.arena.take<wt_chain>(profile.chains.size());
    for (size_t i = 0; i < profile.chains.size(); ++i)
        pack_chain(packer, profile.chains[i], chains ? &chains[i] : nullptr);
    if (any_histogram(profile)) {
        LatencyHistogram* histograms = packer.arena.take<LatencyHistogram>(profile.chains.size());
        for (size_t i = 0; histograms && i < profile.chains.size(); ++i)
            histograms[i] = profile.chains[i].histogram;
        packer.histograms = histograms;
    }
    wt_thread_total* threads = packer.arena.take<wt_thread_total>(profile.threads.size());
    for (size_t i = 0; i < profile.threads.size(); ++i)
        pack_thread(packer, profile.threads[i], threads ? &threads[i] : nullptr);
    if (out) {
        out->nr_chains = profile.chains.size();
        out->chains = chains;
        out->losses = pack_losses(profile.losses);
        out->skipped_runs = profile.losses.skipped_runs;
        out->duration_ns = profile.duration_ns;
        out->nr_threads = profile.threads.size();
        out->threads = threads;
        out->stack_sample_percent = profile.stack_sample_percent;
        // At most one move per 50 ms check: 32 bits last 6 years of that;
        // saturate rather than wrap.
        out->chain_map_moves = uint32_t(std::min<uint64_t>(profile.chain_map_moves, UINT32_MAX));
    }
    return out;
}

}  // namespace

// The block: [BlockHeader][wt_profile, arrays, strings][wt_frame x N][FrameDetails x N]
wt_profile* pack_profile(const Profile& profile) {
    Packer sizing;
    pack_into(sizing, profile);
    const size_t nr_frames = sizing.slots.used();
    const size_t frames_at = round_up(kHeaderSize + sizing.arena.used(), alignof(wt_frame));
    const size_t details_at = round_up(frames_at + nr_frames * sizeof(wt_frame), alignof(FrameDetails));
    char* block = static_cast<char*>(std::malloc(details_at + nr_frames * sizeof(FrameDetails)));
    if (!block)
        throw std::bad_alloc();
    auto* frames = reinterpret_cast<wt_frame*>(block + frames_at);
    auto* details = reinterpret_cast<FrameDetails*>(block + details_at);
    const Losses& losses = profile.losses;
    new (block)
        BlockHeader{frames,
                    details,
                    nr_frames,
                    ExtraLosses{losses.chain_states_full, losses.hop_map_full, losses.hop_collisions,
                                losses.untraced_children, losses.histogram_map_full, losses.off_cpu_events},
                    nullptr,
                    profile.mode};
    Packer packer{Arena(block + kHeaderSize), FrameSlots(frames, details)};
    wt_profile* packed = pack_into(packer, profile);
    reinterpret_cast<BlockHeader*>(block)->histograms = packer.histograms;
    return packed;
}

void free_profile(wt_profile* profile) noexcept {
    if (profile)
        std::free(reinterpret_cast<char*>(profile) - kHeaderSize);
}

namespace {

const BlockHeader& header_of(const wt_profile& profile) noexcept {
    return *reinterpret_cast<const BlockHeader*>(reinterpret_cast<const char*>(&profile) - kHeaderSize);
}

}  // namespace

const FrameDetails* frame_details(const wt_profile& profile, const wt_frame& frame) noexcept {
    const BlockHeader* header = &header_of(profile);
    // std::less: a total order even for pointers into other objects.
    const std::less<const wt_frame*> before;
    if (before(&frame, header->frames) || !before(&frame, header->frames + header->nr_frames))
        return nullptr;
    return &header->details[&frame - header->frames];
}

namespace {

void add_frame_objects(const wt_profile& packed, const wt_stack& from, Stack& to) {
    for (size_t i = 0; i < from.nr_frames && i < to.frames.size(); ++i) {
        const FrameDetails* details = frame_details(packed, from.frames[i]);
        if (!details)
            throw Error(EINVAL, "frame is not part of this profile");
        Frame& frame = to.frames[i];
        frame.build_id = details->build_id ? details->build_id : "";
        if (details->has_file_offset)
            frame.file_offset = details->file_offset;
    }
}

}  // namespace

Profile unpack_profile(const wt_profile& packed) {
    Profile profile = c_bridge::profile_from(packed);
    for (size_t c = 0; c < packed.nr_chains && c < profile.chains.size(); ++c) {
        const wt_chain& from = packed.chains[c];
        WakeChain& to = profile.chains[c];
        add_frame_objects(packed, from.kernel_stack, to.kernel_stack);
        add_frame_objects(packed, from.user_stack, to.user_stack);
        for (size_t w = 0; w < from.nr_wakers && w < to.wakers.size(); ++w) {
            const wt_waker& waker = from.wakers[w];
            add_frame_objects(packed, waker.kernel_stack, to.wakers[w].kernel_stack);
            add_frame_objects(packed, waker.user_stack, to.wakers[w].user_stack);
            if (waker.blocked_stacks) {
                add_frame_objects(packed, waker.blocked_stacks[0], to.wakers[w].blocked_kernel_stack);
                add_frame_objects(packed, waker.blocked_stacks[1], to.wakers[w].blocked_user_stack);
            }
        }
    }
    return profile;
}

bool chain_histogram(const wt_profile& profile, const wt_chain& chain, LatencyHistogram& out) noexcept {
    const std::less<const wt_chain*> before;
    if (before(&chain, profile.chains) || !before(&chain, profile.chains + profile.nr_chains))
        return false;
    const LatencyHistogram* histograms = header_of(profile).histograms;
    out = histograms ? histograms[&chain - profile.chains] : LatencyHistogram{};
    return true;
}

CaptureMode capture_mode(const wt_profile& profile) noexcept { return header_of(profile).mode; }

const ExtraLosses& extra_losses(const wt_profile& profile) noexcept {
    return header_of(profile).extra_losses;
}

}  // namespace waketrace::c_api
