// SPDX-License-Identifier: LGPL-2.1-or-later
//
// offwaketime's default, multi-line layout: the waker's stacks read top-down
// into the wake-up, then "--", then the target's stacks read from where it
// went to sleep outwards. Deeper waker levels repeat that pattern above it.
#include <iterator>

#include <fmt/format.h>

#include "format/classic_layouts.hpp"
#include "format/stack_walk.hpp"
#include "format/format.hpp"

namespace waketrace {
namespace {

using format_internal::FrameOrder;
using format_internal::PartOrder;

void append_line(std::string& out, std::string_view text) {
    fmt::format_to(std::back_inserter(out), "    {}\n", format_internal::one_line(text));
}

// Labels padded to 16 columns, like offwaketime's "%-16s".
void append_labelled(std::string& out, std::string_view label, std::string_view value) {
    fmt::format_to(std::back_inserter(out), "    {:<16} {}\n", label, format_internal::one_line(value));
}

// Interrupts and preemption have no task: a tid would only mislead.
std::string identity(const Waker& waker, const FormatOptions& options) {
    if (waker.context == WakerContext::task)
        return fmt::format("{} {}", format_internal::task_label(waker.task, options), waker.task.tid);
    return waker_name(waker);
}

// `level` is the waker's index in WakeChain::wakers. Level 0's overlap is the
// chain's blocked time, so only deeper levels say theirs.
void append_waker(std::string& out, const FormatOptions& options, const Waker& waker, size_t level) {
    if (level == 0)
        append_labelled(out, "waker:", identity(waker, options));
    else
        append_labelled(out, "waker:",
                        fmt::format("{} (overlap {} us)", identity(waker, options), waker.overlap_ns / 1000));
    format_internal::walk_stacks(options, waker.user_stack, waker.kernel_stack, PartOrder::user_then_kernel,
                                 FrameOrder::root_first,
                                 [&](std::string_view item) { append_line(out, item); });
}

// Where a waker had itself blocked, read like a target: from where it went
// to sleep outwards, then who it is.
void append_blocked(std::string& out, const FormatOptions& options, const Waker& waker) {
    format_internal::walk_stacks(options, waker.blocked_user_stack, waker.blocked_kernel_stack,
                                 PartOrder::kernel_then_user, FrameOrder::leaf_first,
                                 [&](std::string_view item) { append_line(out, item); });
    append_labelled(out, "blocked:", identity(waker, options));
}

// The hops beyond wakers[0], deepest first: each waker's waking stacks, "--",
// then the wait it ended (the blocked stacks of the level below it).
void append_deeper_levels(std::string& out, const FormatOptions& options, const WakeChain& chain) {
    if (chain.end != ChainEnd::complete)
        append_line(out, chain_end_marker(chain.end));
    for (size_t level = chain.wakers.size(); level-- > 1;) {
        append_waker(out, options, chain.wakers[level], level);
        append_labelled(out, format_internal::chain_separator, format_internal::chain_separator);
        append_blocked(out, options, chain.wakers[level - 1]);
    }
}

void append_target(std::string& out, const FormatOptions& options, const WakeChain& chain) {
    format_internal::walk_stacks(options, chain.user_stack, chain.kernel_stack, PartOrder::kernel_then_user,
                                 FrameOrder::leaf_first,
                                 [&](std::string_view item) { append_line(out, item); });
    append_labelled(
        out, "target:",
        fmt::format("{} {}", format_internal::task_label(chain.target, options), chain.target.tid));
}

std::string_view stack_kinds_words(StackKinds stacks) {
    switch (stacks) {
    case StackKinds::kernel_only: return "kernel";
    case StackKinds::user_only: return "user";
    case StackKinds::both: break;
    }
    return "user + kernel";
}

// offwaketime's "for N secs." / "... Hit Ctrl-C to end.", plus the command case.
std::string until_words(std::optional<double> duration_s, std::string_view command) {
    if (duration_s)
        return fmt::format(" for {} secs.", *duration_s);
    if (!command.empty())
        return fmt::format(" until {} exits.", command);
    return "... Hit Ctrl-C to end.";
}

}  // namespace

std::string format_text(const Profile& profile, const FormatOptions& options) {
    switch (profile.mode) {
    case CaptureMode::offcpu: return format_internal::offcputime_text(profile, options);
    case CaptureMode::wakeup: return format_internal::wakeuptime_text(profile, options);
    case CaptureMode::offwake: break;
    }
    std::string out;
    for (const WakeChain& chain : profile.chains) {
        append_deeper_levels(out, options, chain);
        append_waker(out, options, format_internal::first_waker(chain), 0);
        append_labelled(out, format_internal::chain_separator, format_internal::chain_separator);
        append_target(out, options, chain);
        fmt::format_to(std::back_inserter(out), "        {}\n", format_internal::total_us(chain));
        if (options.histograms)
            out += format_chain_histograms(chain, "        ");
        out += '\n';
    }
    return out;
}

std::string format_text_header(StackKinds stacks, CaptureMode mode, std::optional<double> duration_s,
                               std::string_view command) {
    switch (mode) {
    case CaptureMode::offcpu:
        return fmt::format("Tracing off-CPU time (us) of all threads by {} stack{}\n",
                           stack_kinds_words(stacks), until_words(duration_s, command));
    case CaptureMode::wakeup:
        return fmt::format("Tracing blocked time (us) by {} waker stack{}\n", stack_kinds_words(stacks),
                           until_words(duration_s, command));
    case CaptureMode::offwake: break;
    }
    return fmt::format("Tracing blocked time (us) by {} off-CPU and waker stack{}\n",
                       stack_kinds_words(stacks), until_words(duration_s, command));
}

}  // namespace waketrace
