#include "profile_packing.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace waketrace::c_api {
namespace {

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

void pack_stack(Arena& arena, const Stack& stack, wt_stack* out) {
    wt_frame* frames = arena.take<wt_frame>(stack.frames.size());
    for (size_t i = 0; i < stack.frames.size(); ++i) {
        const Frame& frame = stack.frames[i];
        const char* symbol = frame.resolved() ? arena.copy(frame.symbol) : nullptr;
        const char* module = arena.copy(frame.module);
        if (frames)
            frames[i] = {frame.address, frame.offset, symbol, module};
    }
    if (out)
        *out = {uint32_t(stack.status), stack.error, stack.frames.size(), frames};
}

void pack_task(Arena& arena, const Task& task, wt_task* out) {
    const char* comm = arena.copy(task.comm);
    if (out)
        *out = {task.tid, task.tgid, comm};
}

void pack_chain(Arena& arena, const WakeChain& chain, wt_chain* out) {
    wt_waker* wakers = arena.take<wt_waker>(chain.wakers.size());
    for (size_t i = 0; i < chain.wakers.size(); ++i) {
        const Waker& waker = chain.wakers[i];
        wt_waker* packed = wakers ? &wakers[i] : nullptr;
        if (packed)
            packed->context = uint32_t(waker.context);
        pack_task(arena, waker.task, packed ? &packed->task : nullptr);
        pack_stack(arena, waker.kernel_stack, packed ? &packed->kernel_stack : nullptr);
        pack_stack(arena, waker.user_stack, packed ? &packed->user_stack : nullptr);
    }
    pack_task(arena, chain.target, out ? &out->target : nullptr);
    pack_stack(arena, chain.kernel_stack, out ? &out->kernel_stack : nullptr);
    pack_stack(arena, chain.user_stack, out ? &out->user_stack : nullptr);
    if (!out)
        return;
    out->nr_wakers = chain.wakers.size();
    out->wakers = wakers;
    out->total_ns = chain.total_ns;
    out->blocked_ns = chain.blocked_ns;
    out->runqueue_ns = chain.runqueue_ns;
    out->max_ns = chain.max_ns;
    out->count = chain.count;
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
    return out;
}

void pack_thread(Arena& arena, const ThreadTotal& thread, wt_thread_total* out) {
    pack_task(arena, thread.task, out ? &out->task : nullptr);
    if (!out)
        return;
    out->total_ns = thread.total_ns;
    out->blocked_ns = thread.blocked_ns;
    out->runqueue_ns = thread.runqueue_ns;
    out->max_ns = thread.max_ns;
    out->count = thread.count;
}

wt_profile* pack_into(Arena& arena, const Profile& profile) {
    wt_profile* out = arena.take<wt_profile>(1);
    wt_chain* chains = arena.take<wt_chain>(profile.chains.size());
    for (size_t i = 0; i < profile.chains.size(); ++i)
        pack_chain(arena, profile.chains[i], chains ? &chains[i] : nullptr);
    wt_thread_total* threads = arena.take<wt_thread_total>(profile.threads.size());
    for (size_t i = 0; i < profile.threads.size(); ++i)
        pack_thread(arena, profile.threads[i], threads ? &threads[i] : nullptr);
    if (out) {
        out->nr_chains = profile.chains.size();
        out->chains = chains;
        out->losses = pack_losses(profile.losses);
        out->duration_ns = profile.duration_ns;
        out->nr_threads = profile.threads.size();
        out->threads = threads;
        out->stack_sample_percent = profile.stack_sample_percent;
    }
    return out;
}

Stack unpack_stack(const wt_stack& stack) {
    Stack out{StackStatus(stack.status), stack.error, {}};
    for (size_t i = 0; i < stack.nr_frames; ++i) {
        const wt_frame& frame = stack.frames[i];
        out.frames.push_back({frame.address, frame.symbol ? frame.symbol : "", frame.module ? frame.module : "",
                              frame.offset});
    }
    return out;
}

Task unpack_task(const wt_task& task) { return {task.tid, task.tgid, task.comm ? task.comm : ""}; }

}  // namespace

wt_profile* pack_profile(const Profile& profile) {
    Arena sizing;
    pack_into(sizing, profile);
    char* block = static_cast<char*>(std::malloc(sizing.used()));
    if (!block)
        throw std::bad_alloc();
    Arena arena(block);
    return pack_into(arena, profile);
}

Profile unpack_profile(const wt_profile& profile) {
    Profile out;
    out.duration_ns = profile.duration_ns;
    const wt_losses& losses = profile.losses;
    out.losses = {losses.stack_collisions,   losses.stack_map_full, losses.stack_errors,
                  losses.chain_map_full,     losses.missed_switch_outs, losses.process_events,
                  losses.thread_map_full};
    out.stack_sample_percent = profile.stack_sample_percent;
    for (size_t i = 0; i < profile.nr_chains; ++i) {
        const wt_chain& chain = profile.chains[i];
        WakeChain unpacked;
        unpacked.target = unpack_task(chain.target);
        unpacked.kernel_stack = unpack_stack(chain.kernel_stack);
        unpacked.user_stack = unpack_stack(chain.user_stack);
        for (size_t w = 0; w < chain.nr_wakers; ++w) {
            const wt_waker& waker = chain.wakers[w];
            unpacked.wakers.push_back({WakerContext(waker.context), unpack_task(waker.task),
                                       unpack_stack(waker.kernel_stack), unpack_stack(waker.user_stack)});
        }
        unpacked.total_ns = chain.total_ns;
        unpacked.blocked_ns = chain.blocked_ns;
        unpacked.runqueue_ns = chain.runqueue_ns;
        unpacked.max_ns = chain.max_ns;
        unpacked.count = chain.count;
        out.chains.push_back(std::move(unpacked));
    }
    return out;
}

}  // namespace waketrace::c_api
