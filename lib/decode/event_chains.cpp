// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/event_chains.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>

namespace waketrace::detail {

// The key is laid out without padding (waketrace_abi.h), so its bytes are
// its value.
size_t EventChains::KeyHash::operator()(const wt_chain_key& key) const noexcept {
    return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(&key), sizeof(key)));
}

bool EventChains::KeyEqual::operator()(const wt_chain_key& a, const wt_chain_key& b) const noexcept {
    return std::memcmp(&a, &b, sizeof(a)) == 0;
}

EventChains::EventChains(Unwind unwind, OnExec on_exec, size_t max_pending)
    : unwind_(std::move(unwind)), on_exec_(std::move(on_exec)), max_pending_(max_pending) {}

void EventChains::on_record(const void* data, size_t size) {
    uint32_t type = 0;
    if (size < sizeof(type))
        return;
    std::memcpy(&type, data, sizeof(type));
    if (type == WT_EVENT_USER_STACK && size >= sizeof(wt_user_stack_event)) {
        const auto& snapshot = *static_cast<const wt_user_stack_event*>(data);
        if (sizeof(snapshot) + snapshot.stack_size > size)
            return;  // malformed: never sent by the program
        add_snapshot(snapshot.snapshot_id, unwind_(snapshot));
    } else if (type == WT_EVENT_PERIOD && size >= sizeof(wt_period_event)) {
        wt_period_event period;
        std::memcpy(&period, data, sizeof(period));
        add_period(period);
    } else if (type == WT_EVENT_EXEC && size >= sizeof(wt_exec_event)) {
        wt_exec_event exec;
        std::memcpy(&exec, data, sizeof(exec));
        on_exec_(exec.tgid);
    }
}

void EventChains::add_snapshot(int32_t snapshot_id, UnwoundStack stack) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [interned, inserted] =
        stack_ids_.try_emplace({stack.image.get(), stack.addresses}, int32_t(stacks_.size()));
    if (inserted)
        stacks_.push_back(std::move(stack));
    if (pending_.insert_or_assign(snapshot_id, interned->second).second)
        pending_order_.push_back(snapshot_id);
    while (pending_order_.size() > max_pending_) {
        pending_.erase(pending_order_.front());
        pending_order_.pop_front();
    }
}

// A snapshot id becomes the id of its unwound stack, once: each snapshot
// belongs to exactly one period. Negative ids (not captured, lost) pass.
int32_t EventChains::claim_snapshot(int32_t user_stack_id) {
    if (user_stack_id < 0)
        return user_stack_id;
    auto found = pending_.find(user_stack_id);
    if (found == pending_.end())
        return -ENOENT;  // pushed out of the pending table: counted as a stack error
    const int32_t stack_id = found->second;
    pending_.erase(found);  // its place in pending_order_ goes when it reaches the front
    return stack_id;
}

void EventChains::add_period(const wt_period_event& period) {
    std::lock_guard<std::mutex> lock(mutex_);
    wt_chain_key key = period.key;
    // Sealing is the kernel maps' business; here a late period of an older
    // generation belongs with its chain as it is now.
    key.generation = 0;
    key.target.user_stack_id = claim_snapshot(key.target.user_stack_id);
    for (wt_waker_key& waker : key.wakers)
        waker.task.user_stack_id = claim_snapshot(waker.task.user_stack_id);
    wt_chain_value& value = chains_[key];
    value.total_ns += period.total_ns;
    value.blocked_ns += period.blocked_ns;
    value.runqueue_ns += period.total_ns - period.blocked_ns;
    value.count += 1;
    if (period.total_ns > value.max_ns)
        value.max_ns = period.total_ns;
    for (size_t i = 0; i < WT_MAX_HOPS; ++i)
        value.overlap_ns[i] += period.overlap_ns[i];
}

// Visitors call user_stack(): visit a copy, outside the lock.
void EventChains::for_each_chain(const ChainVisitor& visit) const {
    decltype(chains_) copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        copy = chains_;
    }
    for (const auto& [key, value] : copy)
        visit(key, value);
}

void EventChains::take_chains(const ChainVisitor& visit) {
    decltype(chains_) taken;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        taken.swap(chains_);
    }
    for (const auto& [key, value] : taken)
        visit(key, value);
}

EventChains::UnwoundStack EventChains::user_stack(int32_t id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (id < 0 || size_t(id) >= stacks_.size())
        return {};
    return stacks_[size_t(id)];
}

}  // namespace waketrace::detail
