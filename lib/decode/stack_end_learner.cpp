// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decode/stack_end_learner.hpp"

namespace waketrace::detail {

std::optional<uint64_t> StackEndLearner::on_unwind(const Unwound& unwound) {
    auto known = known_.find(unwound.tid);
    if (known != known_.end() && known->second.thread_start_ns != unwound.thread_start_ns) {
        known_.erase(known);  // the tid of an exited thread, reused
        known = known_.end();
    }
    if (known != known_.end()) {
        if (known->second.end == 0)
            return std::nullopt;  // given up on
        // The copy stopped at the end told (or the thread's stack is
        // elsewhere now, which copies whole anyway) and the unwind wanted
        // more: the end was wrong, e.g. learned from an unwind that read a
        // zero return address mid-stack and stopped there.
        const bool cut_at_end = unwound.stack_address + unwound.stack_size >= known->second.end;
        if (unwound.read_past_copy && cut_at_end) {
            known->second.end = 0;
            return 0;
        }
        if (unwound.end_found <= known->second.end)
            return std::nullopt;
        known->second.end = unwound.end_found;
        return unwound.end_found;
    }
    if (unwound.end_found == 0)
        return std::nullopt;
    if (known_.size() >= kMaxThreads)
        known_.clear();
    known_.emplace(unwound.tid, Known{unwound.thread_start_ns, unwound.end_found});
    return unwound.end_found;
}

}  // namespace waketrace::detail
