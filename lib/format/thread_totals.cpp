// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profile::threads as a table for the command line: who was off CPU the
// longest, whatever the stacks. The comm comes last so that a name with
// spaces in it cannot shift the columns a reader splits on.
#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "format/stack_walk.hpp"
#include "format/format.hpp"

namespace waketrace {

std::string format_thread_totals(const Profile& profile) {
    std::vector<const ThreadTotal*> rows;
    rows.reserve(profile.threads.size());
    for (const ThreadTotal& thread : profile.threads)
        rows.push_back(&thread);
    // Largest first; ties by tid, so the order does not depend on the map's.
    std::sort(rows.begin(), rows.end(), [](const ThreadTotal* a, const ThreadTotal* b) {
        return a->total_ns != b->total_ns ? a->total_ns > b->total_ns : a->task.tid < b->task.tid;
    });
    std::string out = "Off-CPU time by thread (us), largest first:\n";
    fmt::format_to(std::back_inserter(out), "    {:>8} {:>8} {:>12} {:>12} {:>12} {:>8}  {}\n", "TID", "PID",
                   "TOTAL", "BLOCKED", "RUNQUEUE", "COUNT", "COMM");
    for (const ThreadTotal* thread : rows)
        fmt::format_to(std::back_inserter(out), "    {:>8} {:>8} {:>12} {:>12} {:>12} {:>8}  {}\n",
                       thread->task.tid, thread->task.tgid, thread->total_ns / 1000,
                       thread->blocked_ns / 1000, thread->runqueue_ns / 1000, thread->count,
                       format_internal::one_line(format_internal::task_name(thread->task)));
    return out;
}

}  // namespace waketrace
