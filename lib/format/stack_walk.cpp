// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/stack_walk.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace waketrace::format_internal {
namespace {

bool lost_to_error(const Stack& stack) {
    switch (stack.status) {
    case StackStatus::collision:
    case StackStatus::map_full:
    case StackStatus::error: return true;
    case StackStatus::ok:
    case StackStatus::not_captured:
    case StackStatus::irq_dropped: return false;
    }
    return false;
}

bool has_frames(const Stack& stack) { return stack.status == StackStatus::ok && !stack.frames.empty(); }

bool shows_user(const FormatOptions& options) { return options.stacks != StackKinds::kernel_only; }

bool shows_kernel(const FormatOptions& options) { return options.stacks != StackKinds::user_only; }

// One part (user or kernel) of a thread's stacks. Stacks that were never
// captured (not asked for, or an interrupt's borrowed user stack) print
// nothing; only a real loss is worth a marker.
void walk_part(const Stack& stack, std::string_view missed, FrameOrder order, const EntryFn& visit) {
    if (lost_to_error(stack)) {
        visit(nullptr, missed);
        return;
    }
    if (stack.status != StackStatus::ok)
        return;
    if (order == FrameOrder::leaf_first) {
        for (const Frame& frame : stack.frames)
            visit(&frame, {});
    } else {
        std::for_each(stack.frames.rbegin(), stack.frames.rend(),
                      [&](const Frame& frame) { visit(&frame, {}); });
    }
}

}  // namespace

void walk_stack_entries(const FormatOptions& options, const Stack& user, const Stack& kernel, PartOrder parts,
                        FrameOrder frames, const EntryFn& visit) {
    const bool user_first = parts == PartOrder::user_then_kernel;
    const Stack& first = user_first ? user : kernel;
    const Stack& second = user_first ? kernel : user;
    const bool show_first = user_first ? shows_user(options) : shows_kernel(options);
    const bool show_second = user_first ? shows_kernel(options) : shows_user(options);
    const std::string_view first_missed = user_first ? missed_user_stack : missed_kernel_stack;
    const std::string_view second_missed = user_first ? missed_kernel_stack : missed_user_stack;

    if (show_first)
        walk_part(first, first_missed, frames, visit);
    // Like offwaketime, the delimiter separates two real stacks, never a
    // stack from a missed-stack marker.
    if (options.delimiter && show_first && show_second && has_frames(first) && has_frames(second))
        visit(nullptr, part_delimiter);
    if (show_second)
        walk_part(second, second_missed, frames, visit);
}

void walk_stacks(const FormatOptions& options, const Stack& user, const Stack& kernel, PartOrder parts,
                 FrameOrder frames, const EmitFn& emit) {
    walk_stack_entries(options, user, kernel, parts, frames,
                       [&](const Frame* frame, std::string_view marker) {
                           if (frame)
                               emit(frame_name(*frame));
                           else
                               emit(marker);
                       });
}

const Waker& first_waker(const WakeChain& chain) {
    static const Waker unseen = [] {
        Waker waker;
        waker.context = WakerContext::unseen;
        return waker;
    }();
    return chain.wakers.empty() ? unseen : chain.wakers.front();
}

std::string task_name(const Task& task) {
    return task.comm.empty() ? std::string("[unknown]") : thread_name(task.comm);
}

std::string task_label(const Task& task, const FormatOptions& options) {
    switch (options.task_names) {
    case TaskNames::comm: break;
    case TaskNames::per_process: return fmt::format("{}-{}", task_name(task), task.tgid);
    case TaskNames::per_thread: return fmt::format("{}-{}/{}", task_name(task), task.tgid, task.tid);
    }
    return task_name(task);
}

std::string waker_label(const Waker& waker, const FormatOptions& options) {
    return waker.context == WakerContext::task ? task_label(waker.task, options) : waker_name(waker);
}

uint64_t total_us(const WakeChain& chain) { return chain.total_ns / 1000; }

std::string one_line(std::string_view name) {
    std::string line(name);
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::replace(line.begin(), line.end(), '\r', ' ');
    return line;
}

void append_folded_field(std::string& line, std::string_view name) {
    if (!line.empty())
        line += ';';
    std::string field = one_line(name);
    std::replace(field.begin(), field.end(), ';', ':');
    line += field;
}

}  // namespace waketrace::format_internal
