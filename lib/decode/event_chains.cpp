// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/event_chains.hpp"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <iterator>
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
        add_snapshot(snapshot.snapshot_id, unwind_(snapshot), snapshot.stack_size);
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

void EventChains::add_snapshot(int32_t snapshot_id, UnwoundStack stack, uint32_t stack_bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [interned, inserted] = stack_ids_.try_emplace({stack.image.get(), stack.addresses}, 0);
    if (inserted) {
        interned->second = new_stack_id();
        stacks_.emplace(interned->second, Stored{std::move(stack), interned});
    }
    if (pending_.insert_or_assign(snapshot_id, Pending{interned->second, snapshots_received_}).second)
        pending_order_.push_back(snapshot_id);
    ++snapshots_received_;
    stack_bytes_received_ += stack_bytes;
    while (pending_order_.size() > max_pending_) {
        pending_.erase(pending_order_.front());
        pending_order_.pop_front();
    }
}

// Ids go up and start again at 0 past the largest; one still in use is
// passed over (there are far fewer in use than ids).
int32_t EventChains::new_stack_id() {
    while (stacks_.count(next_stack_id_))
        next_stack_id_ = next_stack_id_ == INT32_MAX ? 0 : next_stack_id_ + 1;
    const int32_t id = next_stack_id_;
    next_stack_id_ = next_stack_id_ == INT32_MAX ? 0 : next_stack_id_ + 1;
    return id;
}

// A snapshot id becomes the id of its unwound stack, once: each snapshot
// belongs to exactly one period. Negative ids (not captured, lost) pass.
int32_t EventChains::claim_snapshot(int32_t user_stack_id) {
    if (user_stack_id < 0)
        return user_stack_id;
    auto found = pending_.find(user_stack_id);
    if (found == pending_.end())
        return -ENOENT;  // pushed out of the pending table: counted as a stack error
    const int32_t stack_id = found->second.stack_id;
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
    if (times_split_) {
        value.blocked_ns += period.blocked_ns;
        value.runqueue_ns += period.total_ns - period.blocked_ns;
    }
    value.count += 1;
    if (period.total_ns > value.max_ns)
        value.max_ns = period.total_ns;
    for (size_t i = 0; i < WT_MAX_HOPS; ++i)
        value.overlap_ns[i] += period.overlap_ns[i];
    if (histograms_on_) {
        LatencyHistogram& histogram = histograms_[key];
        ++histogram.off_cpu[LatencyHistogram::bucket_of(period.total_ns)];
        if (times_split_)
            ++histogram.runqueue[LatencyHistogram::bucket_of(period.total_ns - period.blocked_ns)];
    }
}

// Visitors call user_stack(): visit a copy, outside the lock.
void EventChains::for_each_chain(const ChainVisitor& visit, const HistogramVisitor& histograms) const {
    decltype(chains_) copy;
    decltype(histograms_) histogram_copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        copy = chains_;
        if (histograms)
            histogram_copy = histograms_;
    }
    for (const auto& [key, histogram] : histogram_copy)
        histograms(key, histogram);
    for (const auto& [key, value] : copy)
        visit(key, value);
}

void EventChains::take_chains(const ChainVisitor& visit, const HistogramVisitor& histograms) {
    decltype(chains_) taken;
    decltype(histograms_) histograms_taken;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        taken.swap(chains_);
        histograms_taken.swap(histograms_);
    }
    if (histograms)
        for (const auto& [key, histogram] : histograms_taken)
            histograms(key, histogram);
    for (const auto& [key, value] : taken)
        visit(key, value);
}

std::optional<EventChains::UnwoundStack> EventChains::user_stack(int32_t id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = stacks_.find(id);
    if (found == stacks_.end())
        return std::nullopt;
    return found->second.stack;
}

uint64_t EventChains::snapshots_received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return snapshots_received_;
}

void EventChains::for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, value] : chains_)
        visit(key);
}

size_t EventChains::forget(uint64_t received_before,
                           const std::unordered_set<int32_t>& referenced_snapshots) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t before = pending_.size();
    for (auto it = pending_.begin(); it != pending_.end();) {
        const bool unnamed = it->second.received < received_before && !referenced_snapshots.count(it->first);
        it = unnamed ? pending_.erase(it) : std::next(it);
    }
    // The order keeps only the snapshots still waiting (claimed ones stay in
    // it until they reach the front otherwise).
    std::deque<int32_t> order;
    for (int32_t snapshot_id : pending_order_)
        if (pending_.count(snapshot_id))
            order.push_back(snapshot_id);
    pending_order_.swap(order);
    forget_unnamed_stacks();
    return before - pending_.size();
}

// What is taken is decoded by then: only waiting snapshots and the chains
// not yet taken still name stacks.
void EventChains::forget_unnamed_stacks() {
    std::unordered_set<int32_t> named;
    for (const auto& [snapshot_id, pending] : pending_)
        named.insert(pending.stack_id);
    for (const auto& [key, value] : chains_) {
        named.insert(key.target.user_stack_id);
        for (const wt_waker_key& waker : key.wakers)
            named.insert(waker.task.user_stack_id);
    }
    for (auto it = stacks_.begin(); it != stacks_.end();) {
        if (named.count(it->first)) {
            ++it;
            continue;
        }
        stack_ids_.erase(it->second.interned);
        it = stacks_.erase(it);
    }
}

size_t EventChains::unwound_stacks() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stacks_.size();
}

size_t EventChains::pending_snapshots() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_.size();
}

EventChains::Copies EventChains::copies() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {snapshots_received_, stack_bytes_received_};
}

}  // namespace waketrace::detail
