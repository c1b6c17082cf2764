// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/record_references.hpp"

#include <algorithm>

namespace waketrace::detail {

void RecordReferences::add(const wt_task_key& task) {
    for (int32_t id : {task.kernel_stack_id, task.user_stack_id})
        if (id >= 0)
            stack_ids.insert(id);
    if (task.tgid)
        tgids.insert(task.tgid);
}

void RecordReferences::add(const wt_hop& hop) {
    add(hop.blocked);
    add(hop.waker.task);
}

void RecordReferences::add(const wt_chain_key& key) {
    add(key.target);
    for (const wt_waker_key& waker : key.wakers)
        add(waker.task);
}

std::vector<RecordRoot> record_roots(const BpfCapture& capture, const ChainGrowth& growth,
                                     const EventChains* unwound, RingReader* stack_events) {
    std::vector<RecordRoot> roots;
    // 1. Open periods: a period's keys leave this map only once its chain
    //    is in the chain map (or, --dwarf, its period in the ring).
    roots.push_back({"open periods", [&capture](RecordReferences& found) {
                         return capture.for_each_off_cpu_task(
                             [&](const wt_task_key& task) { found.add(task); });
                     }});
    // 2. Deeper chains (chain_depth > 1): the hop records, made at a
    //    period's switch-in from its open entry, before the entry goes and
    //    before its chain names them. Nothing removes a hop, so each one's
    //    stacks are kept for as long as the program runs (at most four ids
    //    per hop, max_hops hops). The per-thread last waits hold only hop ids.
    if (capture.deep_chains()) {
        roots.push_back({"waker levels", [&capture](RecordReferences& found) {
                             return capture.for_each_hop([&](const wt_hop& hop) { found.add(hop); });
                         }});
    }
    // 3. Chains in the kernel map and the sums moved out of it.
    roots.push_back({"chains", [&growth](RecordReferences& found) {
                         return growth.for_each_chain_key([&](const wt_chain_key& key) { found.add(key); });
                     }});
    // 4. --dwarf: periods on their way through the ring, then summed.
    if (unwound) {
        roots.push_back({"--dwarf chains", [unwound, stack_events](RecordReferences& found) {
                             if (stack_events)
                                 stack_events->catch_up();
                             unwound->for_each_chain_key([&](const wt_chain_key& key) { found.add(key); });
                             return true;
                         }});
    }
    return roots;
}

ForgetOutcome forget_unreferenced(BpfCapture& capture, ChainGrowth& growth, EventChains* unwound,
                                  RingReader* stack_events, ProcessRegistry& processes) {
    ForgetOutcome outcome;
    const auto moves_held = growth.hold_stack_moves();
    // Before anything is scanned: what exits later may still be named.
    std::vector<ProcessRegistry::Exited> exited = processes.exited();
    // Nothing to forget (no stack moved yet, no --dwarf state): no scan.
    if (growth.archived_stacks() == 0 && !unwound && exited.empty()) {
        outcome.scanned = true;
        return outcome;
    }
    const uint64_t snapshots_before = unwound ? unwound->snapshots_received() : 0;
    capture.wait_for_program_runs();
    RecordReferences found;
    for (const RecordRoot& root : record_roots(capture, growth, unwound, stack_events))
        if (!root.scan(found))
            return outcome;
    outcome.scanned = true;
    outcome.stacks_forgotten = growth.keep_stacks(found.stack_ids);
    if (unwound)
        outcome.snapshots_forgotten = unwound->forget(snapshots_before, found.stack_ids);
    exited.erase(std::remove_if(exited.begin(), exited.end(),
                                [&](const ProcessRegistry::Exited& process) {
                                    return found.tgids.count(process.tgid) != 0;
                                }),
                 exited.end());
    outcome.exited_processes = std::move(exited);
    return outcome;
}

}  // namespace waketrace::detail
