// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

std::string folded_of(const WakeChain& one, FormatOptions options = {}) {
    return format_folded(profile_of({one}), options);
}

}  // namespace

TEST_CASE("folded: target root to sleep, --, waker from wake-up to root") {
    CHECK(folded_of(futex_chain()) ==
          "worker;worker_loop;pthread_cond_wait;__futex_wait;futex_wait;schedule;"
          "finish_task_switch;--;try_to_wake_up;wake_up_q;futex_wake;__futex_wake;"
          "pthread_cond_signal;produce_items;producer 1234\n");
}

TEST_CASE("folded: the delimiter separates user and kernel parts of both threads") {
    FormatOptions options;
    options.delimiter = true;
    CHECK(folded_of(futex_chain(), options) ==
          "worker;worker_loop;pthread_cond_wait;__futex_wait;-;futex_wait;schedule;"
          "finish_task_switch;--;try_to_wake_up;wake_up_q;futex_wake;-;__futex_wake;"
          "pthread_cond_signal;produce_items;producer 1234\n");
}

TEST_CASE("folded: no delimiter next to a missed or empty part") {
    FormatOptions options;
    options.delimiter = true;
    const WakeChain one = chain("worker", 42, lost(StackStatus::collision), stack({"schedule"}),
                                task_waker("producer", 41, Stack{}, stack({"try_to_wake_up"})), 5000);
    CHECK(folded_of(one, options) == "worker;[Missed User Stack];schedule;--;try_to_wake_up;producer 5\n");
}

TEST_CASE("folded: kernel_only and user_only") {
    FormatOptions options;
    options.delimiter = true;
    options.stacks = StackKinds::kernel_only;
    CHECK(folded_of(futex_chain(), options) ==
          "worker;futex_wait;schedule;finish_task_switch;--;try_to_wake_up;wake_up_q;"
          "futex_wake;producer 1234\n");
    options.stacks = StackKinds::user_only;
    CHECK(folded_of(futex_chain(), options) ==
          "worker;worker_loop;pthread_cond_wait;__futex_wait;--;__futex_wake;"
          "pthread_cond_signal;produce_items;producer 1234\n");
}

TEST_CASE("folded: capture errors become missed-stack fields, never-captured stacks vanish") {
    const StackStatus status = GENERATE(StackStatus::collision, StackStatus::map_full, StackStatus::error);
    const WakeChain missed = chain("worker", 42, lost(status), lost(status),
                                   task_waker("producer", 41, lost(status), lost(status)), 2000);
    CHECK(folded_of(missed) ==
          "worker;[Missed User Stack];[Missed Kernel Stack];--;[Missed Kernel Stack];"
          "[Missed User Stack];producer 2\n");

    Stack dropped;
    dropped.status = StackStatus::irq_dropped;
    const WakeChain kernel_thread = chain("kworker/1:0", 8, Stack{}, stack({"schedule"}),
                                          task_waker("producer", 41, dropped, Stack{}), 2000);
    CHECK(folded_of(kernel_thread) == "kworker/1:0;schedule;--;producer 2\n");
}

TEST_CASE("folded: interrupt, preempted and missing wakers end with their bracketed name") {
    const Waker softirq = context_waker(WakerContext::softirq, stack({"try_to_wake_up", "rcu_do_batch"}));
    CHECK(folded_of(chain("sleeper", 9, Stack{}, stack({"schedule"}), softirq, 7000)) ==
          "sleeper;schedule;--;try_to_wake_up;rcu_do_batch;[softirq] 7\n");

    WakeChain spinner = chain("spinner", 5, stack({"spin"}), stack({"preempt_schedule"}),
                              context_waker(WakerContext::preempted), 4000);
    CHECK(folded_of(spinner) == "spinner;spin;preempt_schedule;--;[preempted] 4\n");
    spinner.wakers.clear();
    CHECK(folded_of(spinner) == "spinner;spin;preempt_schedule;--;[unseen waker] 4\n");
}

TEST_CASE("folded: ';' and newlines inside names cannot split a line") {
    Stack odd = stack({"std::map<int;int>::at", "two\nlines"});
    odd.frames.push_back(Frame{0x1, "", "/usr/bin/app", 0, "", 0, false, std::nullopt, ""});
    const WakeChain one = chain("we;ird\n", 3, odd, Stack{}, task_waker("w;k", 2, Stack{}, Stack{}), 1000);
    CHECK(folded_of(one) == "we:ird ;[unknown];two lines;std::map<int:int>::at;--;w:k 1\n");
}

TEST_CASE("folded: one line per chain in the given order, whole microseconds") {
    const Waker waker = task_waker("w", 1, Stack{}, Stack{});
    const Profile profile = profile_of({
        chain("a", 10, Stack{}, Stack{}, waker, 999),
        chain("b", 11, Stack{}, Stack{}, waker, 1999),
        chain("c", 12, Stack{}, Stack{}, waker, 5000000000ULL),
    });
    CHECK(format_folded(profile, {}) == "a;--;w 0\nb;--;w 1\nc;--;w 5000000\n");
    CHECK(format_folded(Profile{}, {}).empty());
}
