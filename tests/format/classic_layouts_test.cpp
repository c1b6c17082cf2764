// SPDX-License-Identifier: LGPL-2.1-or-later
// offcputime's and wakeuptime's layouts, for profiles of the offcpu and
// wakeup modes: what each tool prints, from the half of a chain it keeps.
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

// An offcpu profile's chain: the worker's stacks, no waker, no time split.
WakeChain offcpu_chain(uint64_t total_ns) {
    WakeChain chain = futex_chain();
    chain.wakers.clear();
    chain.total_ns = total_ns;
    return chain;
}

// A wakeup profile's chain: the producer's stacks, the worker named only.
WakeChain wakeup_chain(uint64_t blocked_ns, uint64_t runqueue_ns) {
    WakeChain chain = futex_chain();
    chain.user_stack = lost(StackStatus::not_captured);
    chain.kernel_stack = lost(StackStatus::not_captured);
    chain.blocked_ns = blocked_ns;
    chain.runqueue_ns = runqueue_ns;
    chain.total_ns = blocked_ns + runqueue_ns;
    return chain;
}

Profile in_mode(CaptureMode mode, std::vector<WakeChain> chains) {
    Profile profile = profile_of(std::move(chains));
    profile.mode = mode;
    return profile;
}

}  // namespace

TEST_CASE("offcpu text: the target's stacks leaf first, then '-  comm (tid)' and the total") {
    const Profile profile = in_mode(CaptureMode::offcpu, {offcpu_chain(2'500'000)});
    CHECK(format_text(profile, {}) ==
          "    finish_task_switch\n"
          "    schedule\n"
          "    futex_wait\n"
          "    __futex_wait\n"
          "    pthread_cond_wait\n"
          "    worker_loop\n"
          "    -                worker (42)\n"
          "        2500\n"
          "\n");
    FormatOptions delimited;
    delimited.delimiter = true;  // offcputime -d: "--" between kernel and user frames
    CHECK(format_text(profile, delimited).find("    futex_wait\n    --\n    __futex_wait\n") !=
          std::string::npos);
}

TEST_CASE("offcpu folded: comm, user frames root first, kernel frames root first, total") {
    const Profile profile = in_mode(CaptureMode::offcpu, {offcpu_chain(2'500'000)});
    CHECK(format_folded(profile, {}) ==
          "worker;worker_loop;pthread_cond_wait;__futex_wait;futex_wait;schedule;finish_task_switch 2500\n");
    FormatOptions kernel_only;
    kernel_only.stacks = StackKinds::kernel_only;
    kernel_only.task_names = TaskNames::per_thread;
    CHECK(format_folded(profile, kernel_only) ==
          "worker-42/42;futex_wait;schedule;finish_task_switch 2500\n");
}

TEST_CASE("wakeup text: target, the waker's stacks from the wake-up outwards, waker, blocked time") {
    const Profile profile = in_mode(CaptureMode::wakeup, {wakeup_chain(3'000'000, 70'000)});
    CHECK(format_text(profile, {}) ==
          "    target:          worker 42\n"
          "    try_to_wake_up\n"
          "    wake_up_q\n"
          "    futex_wake\n"
          "    __futex_wake\n"
          "    pthread_cond_signal\n"
          "    produce_items\n"
          "    waker:           producer 41\n"
          "        3000\n"
          "\n");
}

TEST_CASE("wakeup folded: waker at the root, its stacks, the woken thread on top; by blocked time") {
    WakeChain interrupt = wakeup_chain(1'000'000, 5'000'000);  // the larger total, the smaller blocked time
    interrupt.wakers = {context_waker(WakerContext::hardirq, stack({"try_to_wake_up", "hrtimer_wakeup"}))};
    const Profile profile = in_mode(CaptureMode::wakeup, {wakeup_chain(3'000'000, 70'000), interrupt});
    CHECK(
        format_folded(profile, {}) ==
        "[hardirq];hrtimer_wakeup;try_to_wake_up;worker 1000\n"
        "producer;produce_items;pthread_cond_signal;__futex_wake;futex_wake;wake_up_q;try_to_wake_up;worker "
        "3000\n");
}

TEST_CASE("pictures and pprof of an offcpu profile show no waker") {
    const Profile profile = in_mode(CaptureMode::offcpu, {offcpu_chain(2'500'000)});
    const std::string table = format_chain_table_html(profile, 10);
    CHECK(table.find("(not traced)") != std::string::npos);
    CHECK(table.find("unseen") == std::string::npos);
    FlameGraphOptions options;
    const std::string svg = format_flamegraph_svg(profile, options);
    CHECK(svg.find("worker_loop") != std::string::npos);
    CHECK(svg.find("unseen") == std::string::npos);
    CHECK(svg.find("--") == std::string::npos);
}
