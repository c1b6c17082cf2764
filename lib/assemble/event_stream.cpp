// SPDX-License-Identifier: LGPL-2.1-or-later
#include "assemble/event_stream.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "assemble/profile_builder.hpp"
#include "decode/records.hpp"

namespace waketrace::detail {
namespace {

Task task_of(const wt_task_key& key) {
    return Task{key.tid, key.tgid, std::string(key.comm, strnlen(key.comm, WT_COMM_LEN))};
}

}  // namespace

EventStream::EventStream(int ring_fd, const ChainGrowth& growth, Symbolizer& symbolizer)
    : ring_(ring_fd), growth_(growth), symbolizer_(symbolizer) {}

size_t EventStream::read(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms) {
    const std::lock_guard<std::mutex> lock(read_mutex_);
    records_.clear();
    const size_t taken = ring_.read(records_, max, timeout_ms);
    out.reserve(out.size() + taken);
    for (const wt_off_cpu_event& record : records_)
        out.push_back(convert(record));
    return taken;
}

OffCpuEvent EventStream::convert(const wt_off_cpu_event& record) {
    OffCpuEvent event;
    event.target = task_of(record.target);
    event.switch_out_ns = record.switch_out_ns;
    event.waking_ns = record.waking_ns;
    event.switch_in_ns = record.switch_in_ns;
    event.state = record.state;
    event.triggered = (record.flags & WT_OFF_CPU_EVENT_TRIGGER) != 0;
    const uint32_t tgid = record.target.tgid;
    event.target_kernel_stack = keep(record.target.kernel_stack_id, tgid, true);
    event.target_user_stack = keep(record.target.user_stack_id, tgid, false);

    const wt_waker_key& waker = record.waker;
    switch (waker.context) {
    case WT_CTX_TASK:
    case WT_CTX_INTERRUPT:
        event.waker_context = waker_context(waker.context);
        event.waker_kernel_stack = keep(waker.task.kernel_stack_id, 0, true);
        event.waker_user_stack = keep(waker.task.user_stack_id, waker.task.tgid, false);
        if (waker.context == WT_CTX_TASK) {
            event.waker = task_of(waker.task);
            event.waker_outside_filters = (waker.flags & WT_WAKER_KEY_OUTSIDE_FILTERS) != 0;
        }
        // As a Profile's wakers (settle_waker_context): the kernel stack
        // tells which interrupt, also one taken on the task's own stack.
        if (const std::optional<InterruptEntry> entry = interrupt_in(event.waker_kernel_stack)) {
            event.waker_context = entry->context;
            event.waker = Task{};
            event.waker_outside_filters = false;
            if (event.waker_user_stack != WT_STACK_ID_NOT_CAPTURED)
                event.waker_user_stack = WT_STACK_ID_IRQ_DROPPED;
        }
        break;
    case WT_CTX_PREEMPTED: event.waker_context = WakerContext::preempted; break;
    default:
        // offcpu mode traces no wakings (WT_CTX_NONE): a period that was not
        // a preemption had a waking that was not seen.
        event.waker_context = record.state == 0 ? WakerContext::preempted : WakerContext::unseen;
        break;
    }
    if (event.waker_context != WakerContext::task && event.waker_context != WakerContext::hardirq &&
        event.waker_context != WakerContext::softirq && event.waker_context != WakerContext::nmi) {
        event.waker_kernel_stack = WT_STACK_ID_NOT_CAPTURED;
        event.waker_user_stack = WT_STACK_ID_NOT_CAPTURED;
    }
    return event;
}

StackId EventStream::keep(int32_t id, uint32_t tgid, bool kernel) {
    if (id < 0)
        return id;
    {
        const std::lock_guard<std::mutex> lock(stacks_mutex_);
        if (kernel ? kernel_stacks_.count(id) != 0 : user_stacks_.count({tgid, id}) != 0)
            return id;
    }
    const StackArchive::Lookup found = growth_.stack(id);
    if (found.collision || !found.found) {
        const std::lock_guard<std::mutex> lock(stacks_mutex_);
        ++(found.collision ? stack_losses_.collisions : stack_losses_.missing);
        return found.collision ? -EEXIST : -ENOENT;
    }
    KeptStack stack{found.frames, kernel ? ProcessImage{} : symbolizer_.processes().image(tgid),
                    std::nullopt};
    const std::lock_guard<std::mutex> lock(stacks_mutex_);
    if (kernel)
        kernel_stacks_.try_emplace(id, std::move(stack));
    else
        user_stacks_.try_emplace({tgid, id}, std::move(stack));
    return id;
}

std::optional<InterruptEntry> EventStream::interrupt_in(StackId kernel_stack) {
    if (kernel_stack < 0)
        return std::nullopt;
    std::vector<uint64_t> addresses;
    {
        const std::lock_guard<std::mutex> lock(stacks_mutex_);
        const auto it = kernel_stacks_.find(kernel_stack);
        if (it == kernel_stacks_.end())
            return std::nullopt;
        if (it->second.interrupt_looked_for)
            return it->second.interrupt;
        addresses = it->second.addresses;
    }
    // Named outside the lock: the first call loads kallsyms.
    std::vector<Frame> frames = symbolizer_.kernel_frames(addresses);
    strip_tracing_frames(frames);  // as frames() names it: the entry's index is in those
    const std::optional<InterruptEntry> entry = innermost_interrupt(frames);
    const std::lock_guard<std::mutex> lock(stacks_mutex_);
    KeptStack& kept = kernel_stacks_.at(kernel_stack);
    kept.interrupt = entry;
    kept.interrupt_looked_for = true;
    return entry;
}

std::vector<Frame> EventStream::frames(StackId id, uint32_t tgid, bool kernel) {
    if (id < 0)
        return {};
    KeptStack stack;
    {
        const std::lock_guard<std::mutex> lock(stacks_mutex_);
        if (kernel) {
            const auto it = kernel_stacks_.find(id);
            if (it == kernel_stacks_.end())
                return {};
            stack = it->second;
        } else {
            const auto it = user_stacks_.find({tgid, id});
            if (it == user_stacks_.end())
                return {};
            stack = it->second;
        }
    }
    if (!kernel)
        return stack.image ? symbolizer_.user_frames(stack.image, stack.addresses)
                           : symbolizer_.user_frames(tgid, stack.addresses);
    std::vector<Frame> frames = symbolizer_.kernel_frames(stack.addresses);
    strip_tracing_frames(frames);  // where we looked, not what the task did
    if (stack.interrupt && stack.interrupt->frame_index + 1 < frames.size())
        frames.erase(frames.begin() + std::ptrdiff_t(stack.interrupt->frame_index) + 1, frames.end());
    return frames;
}

EventStream::StackLosses EventStream::stack_losses() const {
    const std::lock_guard<std::mutex> lock(stacks_mutex_);
    return stack_losses_;
}

size_t EventStream::kept_stacks() const {
    const std::lock_guard<std::mutex> lock(stacks_mutex_);
    return kernel_stacks_.size() + user_stacks_.size();
}

}  // namespace waketrace::detail
