// SPDX-License-Identifier: LGPL-2.1-or-later
#include "chain_queries.hpp"

#include <algorithm>
#include <cstdio>

namespace waketrace::test {

bool has_frame(const Stack& stack, std::string_view symbol_part) {
    return std::any_of(stack.frames.begin(), stack.frames.end(), [&](const Frame& frame) {
        return frame.symbol.find(symbol_part) != std::string::npos;
    });
}

std::vector<const WakeChain*> chains_of_target(const Profile& profile, uint32_t tid) {
    std::vector<const WakeChain*> found;
    for (const WakeChain& chain : profile.chains)
        if (chain.target.tid == tid)
            found.push_back(&chain);
    return found;
}

uint64_t sum_blocked_ns(const std::vector<const WakeChain*>& chains) {
    uint64_t sum = 0;
    for (const WakeChain* chain : chains)
        sum += chain->blocked_ns;
    return sum;
}

uint64_t count_blocked_in(const Profile& profile, uint32_t tid, std::string_view symbol_part) {
    uint64_t count = 0;
    for (const WakeChain* chain : chains_of_target(profile, tid))
        if (has_frame(chain->kernel_stack, symbol_part) && !chain->wakers.empty() &&
            chain->wakers[0].context != WakerContext::preempted)
            count += chain->count;
    return count;
}

uint64_t losses_on_our_side(const Losses& losses) { return losses.total() - losses.missed_switch_ins; }

std::string unaccounted_rounds(uint64_t seen, uint64_t rounds, const Losses& losses) {
    if (seen <= rounds && seen + losses.missed_switch_ins >= rounds)
        return "";
    return std::to_string(seen) + " of " + std::to_string(rounds) + " rounds seen, " +
           std::to_string(losses.missed_switch_ins) + " switch-ins missed";
}

namespace {

// The first `frames` frames; an unnamed one as its address and module, so
// a failure shows whether the walk or the naming fell short.
std::string stack_top(const Stack& stack, size_t frames) {
    if (stack.status != StackStatus::ok)
        return " (" + std::string(to_string(stack.status)) + ")";
    std::string text;
    for (size_t i = 0; i < stack.frames.size() && i < frames; ++i) {
        const Frame& frame = stack.frames[i];
        if (!frame.symbol.empty()) {
            text += " " + frame.symbol;
            continue;
        }
        char address[32];
        std::snprintf(address, sizeof(address), "%#llx", static_cast<unsigned long long>(frame.address));
        text += " [" + std::string(address) + " in " + (frame.module.empty() ? "?" : frame.module) + "]";
    }
    return text;
}

}  // namespace

std::string describe_chains(const Profile& profile, uint32_t tid) {
    std::string text;
    for (const WakeChain* chain : chains_of_target(profile, tid)) {
        text += "count=" + std::to_string(chain->count) + " waker=";
        if (chain->wakers.empty()) {
            text += "none";
        } else {
            text += std::string(to_string(chain->wakers[0].context)) + "/" +
                    std::to_string(chain->wakers[0].task.tid);
        }
        text += " kernel:" + stack_top(chain->kernel_stack, 6) +
                "\n  user:" + stack_top(chain->user_stack, 8) + "\n";
    }
    return text;
}

uint64_t chain_level_losses(const Losses& losses) {
    return losses.chain_states_full + losses.hop_map_full + losses.hop_collisions;
}

std::string describe_hops(const WakeChain& chain) {
    std::string text = "target " + std::to_string(chain.target.tid) + "/" + chain.target.comm +
                       " count=" + std::to_string(chain.count) +
                       " blocked_ns=" + std::to_string(chain.blocked_ns) +
                       " blocked in:" + stack_top(chain.kernel_stack, 6) + "\n";
    for (size_t i = 0; i < chain.wakers.size(); ++i) {
        const Waker& waker = chain.wakers[i];
        text += "  waker " + std::to_string(i) + ": " + std::string(to_string(waker.context)) + " " +
                std::to_string(waker.task.tid) + "/" + waker.task.comm + " tgid " +
                std::to_string(waker.task.tgid) + " overlap_ns=" + std::to_string(waker.overlap_ns) +
                "\n    waking:" + stack_top(waker.kernel_stack, 10) +
                "\n    blocked:" + stack_top(waker.blocked_kernel_stack, 6) + "\n";
    }
    return text + "  end: " + std::string(to_string(chain.end)) + "\n";
}

std::string describe(const Losses& losses) {
    return "stack_collisions=" + std::to_string(losses.stack_collisions) +
           " stack_map_full=" + std::to_string(losses.stack_map_full) +
           " stack_errors=" + std::to_string(losses.stack_errors) +
           " chain_map_full=" + std::to_string(losses.chain_map_full) +
           " missed_switch_outs=" + std::to_string(losses.missed_switch_outs) +
           " process_events=" + std::to_string(losses.process_events) +
           " thread_map_full=" + std::to_string(losses.thread_map_full) +
           " user_stack_events=" + std::to_string(losses.user_stack_events) +
           " period_events=" + std::to_string(losses.period_events) +
           " missed_switch_ins=" + std::to_string(losses.missed_switch_ins) +
           " skipped_runs=" + std::to_string(losses.skipped_runs) +
           " chain_states_full=" + std::to_string(losses.chain_states_full) +
           " hop_map_full=" + std::to_string(losses.hop_map_full) +
           " hop_collisions=" + std::to_string(losses.hop_collisions) +
           " untraced_children=" + std::to_string(losses.untraced_children) +
           " histogram_map_full=" + std::to_string(losses.histogram_map_full);
}

}  // namespace waketrace::test
