// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/chain_growth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "capture/libbpf_log.hpp"
#include "support/left_out_thread.hpp"

namespace waketrace::detail {
namespace {

// How often the watching thread looks at the maps. A map is moved once it is
// half full, so a workload would have to start half a map of new chains
// within one interval (8192 at the default size) to fill it.
constexpr auto kWatchInterval = std::chrono::milliseconds(50);

void add_times(wt_chain_value& sum, const wt_chain_value& value) {
    sum.total_ns += value.total_ns;
    sum.blocked_ns += value.blocked_ns;
    sum.runqueue_ns += value.runqueue_ns;
    sum.count += value.count;
    sum.max_ns = std::max(sum.max_ns, value.max_ns);
    for (size_t i = 0; i < WT_MAX_HOPS; ++i)
        sum.overlap_ns[i] += value.overlap_ns[i];
}

bool half_full(uint64_t entries, uint64_t capacity) { return entries > 0 && entries * 2 >= capacity; }

}  // namespace

void ChainSums::add(const wt_chain_key& key, const wt_chain_value& value) {
    wt_chain_key any_generation = key;
    any_generation.generation = 0;
    add_times(chains[any_generation], value);
}

void ChainSums::add(const wt_thread_key& key, const wt_chain_value& value) {
    wt_thread_key any_generation = key;
    any_generation.generation = 0;
    add_times(threads[any_generation], value);
}

void ChainSums::add(const wt_chain_key& key, const LatencyHistogram& histogram) {
    wt_chain_key any_generation = key;
    any_generation.generation = 0;
    histograms[any_generation].add(histogram);
}

ChainGrowth::ChainGrowth(BpfCapture& capture, uint64_t chain_capacity, uint64_t thread_capacity, Log log)
    : capture_(capture),
      chain_capacity_(chain_capacity),
      thread_capacity_(thread_capacity),
      log_(std::move(log)),
      thread_(start_left_out_thread(
          [this](uint32_t tid) {
              capture_.leave_out_thread(tid);
              route_libbpf_messages_until_thread_exit(log_);
          },
          [this] { watch(); })) {}

ChainGrowth::~ChainGrowth() { stop_watching(); }

void ChainGrowth::stop_watching() noexcept {
    {
        const std::lock_guard<std::mutex> lock(wake_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void ChainGrowth::watch() {
    std::unique_lock<std::mutex> wake_lock(wake_mutex_);
    while (!wake_.wait_for(wake_lock, kWatchInterval, [this] { return stopping_; })) {
        wake_lock.unlock();
        try {
            const std::array<MapFill, 2> stack_maps = capture_.stack_map_fill();
            if (std::any_of(stack_maps.begin(), stack_maps.end(),
                            [](const MapFill& map) { return half_full(map.entries, map.capacity); }))
                move_stacks();
            const std::lock_guard<std::mutex> lock(mutex_);
            if (wants_move()) {
                const auto began = std::chrono::steady_clock::now();
                const uint64_t moved = move_sealed();
                ++moves_;
                const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - began);
                if (log_)
                    log_(LogLevel::info, fmt::format("moved {} chains to user space in {} ms (the kernel "
                                                     "map was half full)",
                                                     moved, took.count()));
            }
        } catch (...) {
            // Out of memory for the sums: the program counts what then no
            // longer fits in its map, and the next look tries again.
        }
        wake_lock.lock();
    }
}

// Only this thread takes stacks; a prune holds them still meanwhile.
void ChainGrowth::move_stacks() {
    const std::lock_guard<std::mutex> hold(stack_move_mutex_);
    const auto began = std::chrono::steady_clock::now();
    const uint64_t moved = capture_.take_stacks(
        [this](int32_t id, std::vector<uint64_t> frames) { stacks_.add(id, std::move(frames)); });
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
    if (log_)
        log_(LogLevel::info, fmt::format("moved {} stacks to user space in {} ms (a kernel stack map was "
                                         "half full; {} distinct stacks kept there)",
                                         moved, took.count(), stacks_.size()));
}

StackArchive::Lookup ChainGrowth::stack(int32_t stack_id) const {
    return stacks_.find(stack_id, capture_.stack(stack_id));
}

std::unique_lock<std::mutex> ChainGrowth::hold_stack_moves() {
    return std::unique_lock<std::mutex>(stack_move_mutex_);
}

bool ChainGrowth::for_each_chain_key(const std::function<void(const wt_chain_key&)>& visit) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, value] : sums_.chains)
        visit(key);
    return capture_.for_each_chain_key(visit);
}

bool ChainGrowth::wants_move() const {
    return half_full(capture_.chain_entries(), chain_capacity_) ||
           half_full(capture_.thread_total_entries(), thread_capacity_);
}

uint64_t ChainGrowth::move_sealed() {
    capture_.seal();
    // The same seal covers the histograms: a period's counts are in the
    // generation of its chain's times. Taken first: the histogram map is
    // sized like the chain map, so while the sealed chains are still there a
    // new chain finds no room in its map before its histogram would.
    capture_.take_histograms(
        [&](const wt_chain_key& key, const LatencyHistogram& histogram) { sums_.add(key, histogram); });
    uint64_t moved = 0;
    capture_.take_chains([&](const wt_chain_key& key, const wt_chain_value& value) {
        sums_.add(key, value);
        ++moved;
    });
    capture_.take_thread_totals(
        [&](const wt_thread_key& key, const wt_chain_value& value) { sums_.add(key, value); });
    return moved;
}

ChainSums ChainGrowth::read() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    ChainSums all = sums_;
    capture_.for_each_chain(
        [&](const wt_chain_key& key, const wt_chain_value& value) { all.add(key, value); });
    capture_.for_each_thread_total(
        [&](const wt_thread_key& key, const wt_chain_value& value) { all.add(key, value); });
    capture_.for_each_histogram(
        [&](const wt_chain_key& key, const LatencyHistogram& histogram) { all.add(key, histogram); });
    return all;
}

ChainSums ChainGrowth::take() {
    const std::lock_guard<std::mutex> lock(mutex_);
    move_sealed();
    ChainSums taken;
    std::swap(taken, sums_);
    return taken;
}

}  // namespace waketrace::detail
