// SPDX-License-Identifier: LGPL-2.1-or-later
#include "assemble/profile_builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <array>
#include <string_view>
#include <unordered_map>

#include "assemble/interrupt_context.hpp"

namespace waketrace::detail {
namespace {

bool is_tracing_frame(const Frame& frame) {
    static constexpr std::array<std::string_view, 4> prefixes = {"bpf_prog_", "bpf_trace_run", "__traceiter_",
                                                                 "__bpf_trace_"};
    return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view prefix) {
        return std::string_view(frame.symbol).substr(0, prefix.size()) == prefix;
    });
}

Stack kernel_stack(const DecodedStack& decoded, Symbolizer& symbolizer) {
    Stack stack{decoded.status, decoded.error, {}};
    if (!decoded.addresses.empty()) {
        stack.frames = symbolizer.kernel_frames(decoded.addresses);
        strip_tracing_frames(stack.frames);
    }
    return stack;
}

Stack user_stack(const DecodedStack& decoded, uint32_t tgid, Symbolizer& symbolizer) {
    Stack stack{decoded.status, decoded.error, {}};
    if (!decoded.addresses.empty())
        stack.frames = decoded.image ? symbolizer.user_frames(decoded.image, decoded.addresses)
                                     : symbolizer.user_frames(tgid, decoded.addresses);
    return stack;
}

// A chain ends in an interrupt: nothing woke it. The program knows an
// interrupt only by the stack it ran on, and one taken in user mode runs on
// the interrupted thread's own stack, so there the program took that thread
// for the waker and went on with its wait. The kernel stack tells (settle_waker_context()):
// the levels past the interrupt are that thread's, and are dropped here.
void end_at_first_interrupt(WakeChain& chain) {
    for (size_t i = 0; i < chain.wakers.size(); ++i) {
        if (chain.wakers[i].context == WakerContext::task)
            continue;
        chain.wakers.resize(i + 1);
        chain.wakers[i].blocked_kernel_stack = {};
        chain.wakers[i].blocked_user_stack = {};
        chain.end = ChainEnd::complete;
        return;
    }
}

WakeChain build_chain(const DecodedChain& decoded, Symbolizer& symbolizer) {
    WakeChain chain;
    chain.target = decoded.target.task;
    chain.kernel_stack = kernel_stack(decoded.target.kernel, symbolizer);
    chain.user_stack = user_stack(decoded.target.user, decoded.target.task.tgid, symbolizer);
    for (const DecodedWaker& level : decoded.wakers) {
        Waker waker;
        waker.context = level.context;
        waker.task = level.task.task;
        waker.kernel_stack = kernel_stack(level.task.kernel, symbolizer);
        waker.user_stack = user_stack(level.task.user, level.task.task.tgid, symbolizer);
        waker.blocked_kernel_stack = kernel_stack(level.blocked_kernel, symbolizer);
        waker.blocked_user_stack = user_stack(level.blocked_user, level.task.task.tgid, symbolizer);
        waker.overlap_ns = level.overlap_ns;
        waker.outside_filters = level.outside_filters;
        settle_waker_context(waker);
        chain.wakers.push_back(std::move(waker));
    }
    chain.end = decoded.end;
    end_at_first_interrupt(chain);
    chain.total_ns = decoded.times.total_ns;
    chain.blocked_ns = decoded.times.blocked_ns;
    chain.runqueue_ns = decoded.times.runqueue_ns;
    chain.max_ns = decoded.times.max_ns;
    chain.count = decoded.times.count;
    chain.histogram = decoded.histogram;
    return chain;
}

// What makes two chains the same once contexts are settled: wakers that lost
// their identity and interrupted frames to an interrupt fall together.
void append_identity(std::string& key, const Task& task, const Stack& kernel, const Stack& user) {
    fmt::format_to(std::back_inserter(key), "{}/{}/{}\x1f", task.tid, task.tgid, task.comm);
    for (const Stack* stack : {&kernel, &user}) {
        fmt::format_to(std::back_inserter(key), "{}:", int(stack->status));
        for (const Frame& frame : stack->frames)
            fmt::format_to(std::back_inserter(key), "{:x},", frame.address);
    }
}

std::string identity_of(const WakeChain& chain) {
    std::string key;
    append_identity(key, chain.target, chain.kernel_stack, chain.user_stack);
    for (const Waker& waker : chain.wakers) {
        fmt::format_to(std::back_inserter(key), "|{}{}|", int(waker.context),
                       waker.outside_filters ? "o" : "");
        append_identity(key, waker.task, waker.kernel_stack, waker.user_stack);
        append_identity(key, {}, waker.blocked_kernel_stack, waker.blocked_user_stack);
    }
    fmt::format_to(std::back_inserter(key), "|{}", int(chain.end));
    return key;
}

// WakeChain and ThreadTotal share these fields.
template <typename Into, typename From>
void add_times(Into& into, const From& from) {
    into.total_ns += from.total_ns;
    into.blocked_ns += from.blocked_ns;
    into.runqueue_ns += from.runqueue_ns;
    into.count += from.count;
    into.max_ns = std::max(into.max_ns, from.max_ns);
}

// Two chains that are the same also have the same waker levels.
void add_chain_times(WakeChain& into, const WakeChain& from) {
    add_times(into, from);
    into.histogram.add(from.histogram);
    for (size_t i = 0; i < into.wakers.size() && i < from.wakers.size(); ++i)
        into.wakers[i].overlap_ns += from.wakers[i].overlap_ns;
}

// Sampled events stand for 100 / percent events each. The max is a real
// observation and stays as it is.
void scale_up(WakeChain& chain, uint32_t percent) {
    for (uint64_t* value : {&chain.total_ns, &chain.blocked_ns, &chain.runqueue_ns, &chain.count})
        *value = *value * 100 / percent;
    for (Waker& waker : chain.wakers)
        waker.overlap_ns = waker.overlap_ns * 100 / percent;
}

std::vector<ThreadTotal> threads_from_map(const std::vector<DecodedThread>& decoded) {
    std::vector<ThreadTotal> threads;
    for (const DecodedThread& thread : decoded)
        threads.push_back({thread.task, thread.times.total_ns, thread.times.blocked_ns,
                           thread.times.runqueue_ns, thread.times.max_ns, thread.times.count});
    return threads;
}

std::vector<ThreadTotal> threads_from_chains(const std::vector<WakeChain>& chains) {
    std::vector<ThreadTotal> threads;
    std::unordered_map<uint32_t, size_t> index_of;
    for (const WakeChain& chain : chains) {
        auto [it, inserted] = index_of.try_emplace(chain.target.tid, threads.size());
        if (inserted)
            threads.push_back({chain.target, 0, 0, 0, 0, 0});
        add_times(threads[it->second], chain);
    }
    return threads;
}

}  // namespace

void strip_tracing_frames(std::vector<Frame>& kernel_frames) {
    // Only within the context the program ran in: past an interrupt entry
    // lies whatever the interrupt hit, which may be BPF too (a bpf() call,
    // another program) and is not ours to cut at.
    const std::optional<InterruptEntry> entry = innermost_interrupt(kernel_frames);
    const auto context_end =
        entry ? kernel_frames.begin() + std::ptrdiff_t(entry->frame_index) : kernel_frames.end();
    auto last = std::find_if(std::make_reverse_iterator(context_end), kernel_frames.rend(), is_tracing_frame);
    if (last != kernel_frames.rend())
        kernel_frames.erase(kernel_frames.begin(), last.base());
}

Profile build_profile(DecodedProfile decoded_profile, const Losses& losses, uint32_t stack_sample_percent,
                      CaptureMode mode, Symbolizer& symbolizer) {
    Profile profile;
    profile.mode = mode;
    profile.losses = losses;
    profile.losses.stack_collisions += decoded_profile.stack_collisions;
    profile.losses.stack_errors += decoded_profile.stacks_missing;
    profile.stack_sample_percent = stack_sample_percent;
    profile.chains.reserve(decoded_profile.chains.size());
    std::unordered_map<std::string, size_t> index_of;
    for (const DecodedChain& decoded : decoded_profile.chains) {
        WakeChain chain = build_chain(decoded, symbolizer);
        if (stack_sample_percent < 100)
            scale_up(chain, stack_sample_percent);
        auto [it, inserted] = index_of.try_emplace(identity_of(chain), profile.chains.size());
        if (inserted)
            profile.chains.push_back(std::move(chain));
        else
            add_chain_times(profile.chains[it->second], chain);
    }
    // Ascending like offwaketime; ties broken so the order is reproducible.
    std::sort(profile.chains.begin(), profile.chains.end(), [](const WakeChain& a, const WakeChain& b) {
        return std::tie(a.total_ns, a.count, a.target.tid) < std::tie(b.total_ns, b.count, b.target.tid);
    });
    profile.threads = stack_sample_percent < 100 ? threads_from_map(decoded_profile.threads)
                                                 : threads_from_chains(profile.chains);
    std::sort(profile.threads.begin(), profile.threads.end(), [](const ThreadTotal& a, const ThreadTotal& b) {
        return std::tie(a.total_ns, a.task.tid) < std::tie(b.total_ns, b.task.tid);
    });
    return profile;
}

}  // namespace waketrace::detail
