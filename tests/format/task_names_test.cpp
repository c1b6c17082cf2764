// SPDX-License-Identifier: LGPL-2.1-or-later
// FormatOptions::task_names (--per-process / --per-thread) in every layout,
// and the thread totals table.
#include <catch2/catch.hpp>

#include <sstream>

#include "format/flame_tree.hpp"
#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

// A worker thread (tid 42) of process 40, woken by a producer thread (tid 41)
// of process 39: pids and tids differ, so a test sees which one a name shows.
WakeChain of_processes(uint32_t target_pid, uint32_t waker_pid) {
    WakeChain one = futex_chain();
    one.target.tgid = target_pid;
    one.wakers[0].task.tgid = waker_pid;
    return one;
}

FormatOptions named(TaskNames names) {
    FormatOptions options;
    options.task_names = names;
    return options;
}

// The first field of a folded line, and the last one before the value.
std::pair<std::string, std::string> ends_of(const std::string& line) {
    const std::string frames = line.substr(0, line.rfind(' '));
    return {frames.substr(0, frames.find(';')), frames.substr(frames.rfind(';') + 1)};
}

}  // namespace

TEST_CASE("task names: the default keeps offwaketime's comm, byte for byte") {
    const Profile profile = profile_of({of_processes(40, 39)});
    CHECK(format_folded(profile, named(TaskNames::comm)) == format_folded(profile, FormatOptions{}));
    CHECK(format_text(profile, named(TaskNames::comm)) == format_text(profile, FormatOptions{}));
    CHECK(ends_of(format_folded(profile, {})) == std::pair<std::string, std::string>("worker", "producer"));
}

TEST_CASE("task names: per process puts comm-pid at the target's root and as the waker's name") {
    const Profile profile = profile_of({of_processes(40, 39)});
    const std::string folded = format_folded(profile, named(TaskNames::per_process));
    CHECK(ends_of(folded) == std::pair<std::string, std::string>("worker-40", "producer-39"));
    // Only the names change: the frames and the value are the default line's.
    const std::string plain = format_folded(profile, {});
    CHECK(folded.substr(folded.find(';'), folded.rfind(';') - folded.find(';')) ==
          plain.substr(plain.find(';'), plain.rfind(';') - plain.find(';')));
    CHECK(folded.substr(folded.rfind(' ')) == plain.substr(plain.rfind(' ')));
}

TEST_CASE("task names: per thread puts comm-pid/tid") {
    const Profile profile = profile_of({of_processes(40, 39)});
    CHECK(ends_of(format_folded(profile, named(TaskNames::per_thread))) ==
          std::pair<std::string, std::string>("worker-40/42", "producer-39/41"));
}

TEST_CASE("task names: the text layout names both threads, with their tids after") {
    const Profile profile = profile_of({of_processes(40, 39)});
    const std::string text = format_text(profile, named(TaskNames::per_process));
    CHECK(text.find("    waker:           producer-39 41\n") != std::string::npos);
    CHECK(text.find("    target:          worker-40 42\n") != std::string::npos);
    const std::string threads = format_text(profile, named(TaskNames::per_thread));
    CHECK(threads.find("    target:          worker-40/42 42\n") != std::string::npos);
}

TEST_CASE("task names: wakers that are not tasks keep their bracketed names") {
    WakeChain one = of_processes(40, 39);
    one.wakers[0] = context_waker(WakerContext::hardirq, stack({"try_to_wake_up"}));
    const std::string folded = format_folded(profile_of({one}), named(TaskNames::per_thread));
    CHECK(ends_of(folded) == std::pair<std::string, std::string>("worker-40/42", "[hardirq]"));
}

TEST_CASE("task names: every deeper waker level is named the same way") {
    WakeChain one = relay_chain(3);
    one.target.tgid = 300;
    one.wakers[0].task.tgid = 300;
    one.wakers[1].task.tgid = 299;
    const std::string folded = format_folded(profile_of({one}), named(TaskNames::per_process));
    CHECK(folded.rfind("relay-3-300;", 0) == 0);
    CHECK(folded.find(";relay-2-300;--;") != std::string::npos);
    CHECK(folded.find(";relay-1-299;--;") != std::string::npos);
    const std::string text = format_text(profile_of({one}), named(TaskNames::per_process));
    CHECK(text.find("    blocked:         relay-2-300 302\n") != std::string::npos);
}

TEST_CASE("task names: two processes of one comm merge in the flame tree by default, split per process") {
    const Profile profile = profile_of({of_processes(40, 39), of_processes(50, 39)});
    const auto merged = format_internal::build_flame_tree(profile, {});
    REQUIRE(merged.children.size() == 1);
    CHECK(merged.children[0].step.name == "worker");
    CHECK(merged.children[0].values.total_ns == 2 * 1234567);

    const auto apart = format_internal::build_flame_tree(profile, named(TaskNames::per_process));
    REQUIRE(apart.children.size() == 2);
    CHECK(apart.children[0].step.name == "worker-40");
    CHECK(apart.children[1].step.name == "worker-50");
    CHECK(apart.children[0].values.total_ns + apart.children[1].values.total_ns ==
          merged.children[0].values.total_ns);
}

TEST_CASE("thread totals: one row per thread, largest first, comm last") {
    Profile profile;
    auto total = [](uint32_t tid, uint32_t pid, std::string comm, uint64_t total_ns, uint64_t blocked_ns,
                    uint64_t count) {
        ThreadTotal thread;
        thread.task = Task{tid, pid, std::move(comm)};
        thread.total_ns = total_ns;
        thread.blocked_ns = blocked_ns;
        thread.runqueue_ns = total_ns - blocked_ns;
        thread.count = count;
        return thread;
    };
    // Ascending, as Profile::threads is.
    profile.threads = {total(7, 7, "idle one", 1'500, 1'000, 1), total(42, 40, "worker", 90'999, 80'000, 3),
                       total(43, 40, "worker", 120'000'000, 119'000'000, 12)};
    std::istringstream table(format_thread_totals(profile));
    std::string line;
    std::getline(table, line);
    CHECK(line == "Off-CPU time by thread (us), largest first:");
    std::getline(table, line);
    std::istringstream heading(line);
    std::string word;
    std::vector<std::string> columns;
    while (heading >> word)
        columns.push_back(word);
    CHECK(columns == std::vector<std::string>{"TID", "PID", "TOTAL", "BLOCKED", "RUNQUEUE", "COUNT", "COMM"});

    struct Row {
        uint64_t tid, pid, total, blocked, runqueue, count;
        std::string comm;
    };
    std::vector<Row> rows;
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        Row row;
        fields >> row.tid >> row.pid >> row.total >> row.blocked >> row.runqueue >> row.count;
        std::getline(fields >> std::ws, row.comm);
        rows.push_back(row);
    }
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].tid == 43);
    CHECK(rows[0].pid == 40);
    CHECK(rows[0].total == 120'000);
    CHECK(rows[0].blocked == 119'000);
    CHECK(rows[0].runqueue == 1'000);
    CHECK(rows[0].count == 12);
    CHECK(rows[1].tid == 42);
    CHECK(rows[1].total == 90);  // rounded down, as the other layouts round
    CHECK(rows[2].comm == "idle one");
    CHECK(rows[2].total == 1);
}
