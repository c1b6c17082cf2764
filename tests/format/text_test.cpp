// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

std::string text_of(const WakeChain& one, FormatOptions options = {}) {
    return format_text(profile_of({one}), options);
}

}  // namespace

TEST_CASE("text: waker root-first down to the wake-up, then target leaf-first") {
    CHECK(text_of(futex_chain()) ==
          "    waker:           producer 41\n"
          "    produce_items\n"
          "    pthread_cond_signal\n"
          "    __futex_wake\n"
          "    futex_wake\n"
          "    wake_up_q\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    finish_task_switch\n"
          "    schedule\n"
          "    futex_wait\n"
          "    __futex_wait\n"
          "    pthread_cond_wait\n"
          "    worker_loop\n"
          "    target:          worker 42\n"
          "        1234\n"
          "\n");
}

TEST_CASE("text: the delimiter separates user and kernel parts of both threads") {
    FormatOptions options;
    options.delimiter = true;
    CHECK(text_of(futex_chain(), options) ==
          "    waker:           producer 41\n"
          "    produce_items\n"
          "    pthread_cond_signal\n"
          "    __futex_wake\n"
          "    -\n"
          "    futex_wake\n"
          "    wake_up_q\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    finish_task_switch\n"
          "    schedule\n"
          "    futex_wait\n"
          "    -\n"
          "    __futex_wait\n"
          "    pthread_cond_wait\n"
          "    worker_loop\n"
          "    target:          worker 42\n"
          "        1234\n"
          "\n");
}

TEST_CASE("text: no delimiter next to a missed or empty part") {
    FormatOptions options;
    options.delimiter = true;
    const WakeChain one = chain("worker", 42, lost(StackStatus::error), stack({"schedule"}),
                                task_waker("producer", 41, Stack{}, stack({"try_to_wake_up"})), 5000);
    CHECK(text_of(one, options) ==
          "    waker:           producer 41\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    schedule\n"
          "    [Missed User Stack]\n"
          "    target:          worker 42\n"
          "        5\n"
          "\n");
}

TEST_CASE("text: kernel_only leaves out user stacks, and the delimiter with them") {
    FormatOptions options;
    options.stacks = StackKinds::kernel_only;
    options.delimiter = true;
    CHECK(text_of(futex_chain(), options) ==
          "    waker:           producer 41\n"
          "    futex_wake\n"
          "    wake_up_q\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    finish_task_switch\n"
          "    schedule\n"
          "    futex_wait\n"
          "    target:          worker 42\n"
          "        1234\n"
          "\n");
}

TEST_CASE("text: user_only leaves out kernel stacks, even missed ones") {
    FormatOptions options;
    options.stacks = StackKinds::user_only;
    WakeChain one = futex_chain();
    one.kernel_stack = lost(StackStatus::map_full);
    CHECK(text_of(one, options) ==
          "    waker:           producer 41\n"
          "    produce_items\n"
          "    pthread_cond_signal\n"
          "    __futex_wake\n"
          "    --               --\n"
          "    __futex_wait\n"
          "    pthread_cond_wait\n"
          "    worker_loop\n"
          "    target:          worker 42\n"
          "        1234\n"
          "\n");
}

TEST_CASE("text: every capture error prints a missed-stack line") {
    const StackStatus status = GENERATE(StackStatus::collision, StackStatus::map_full, StackStatus::error);
    const WakeChain one = chain("worker", 42, lost(status), lost(status),
                                task_waker("producer", 41, lost(status), lost(status)), 2000);
    CHECK(text_of(one) ==
          "    waker:           producer 41\n"
          "    [Missed User Stack]\n"
          "    [Missed Kernel Stack]\n"
          "    --               --\n"
          "    [Missed Kernel Stack]\n"
          "    [Missed User Stack]\n"
          "    target:          worker 42\n"
          "        2\n"
          "\n");
}

TEST_CASE("text: stacks never captured print nothing") {
    const StackStatus status = GENERATE(StackStatus::not_captured, StackStatus::irq_dropped);
    Stack absent;
    absent.status = status;
    const WakeChain one = chain("kworker/0:1", 7, absent, stack({"schedule"}),
                                task_waker("producer", 41, absent, absent), 3000);
    CHECK(text_of(one) ==
          "    waker:           producer 41\n"
          "    --               --\n"
          "    schedule\n"
          "    target:          kworker/0:1 7\n"
          "        3\n"
          "\n");
}

TEST_CASE("text: interrupt wakers print their name without a tid") {
    Stack dropped;
    dropped.status = StackStatus::irq_dropped;
    Waker irq = context_waker(WakerContext::hardirq, stack({"try_to_wake_up", "hrtimer_wakeup"}));
    irq.user_stack = dropped;
    const WakeChain one = chain("sleeper", 9, stack({"nanosleep"}), stack({"schedule"}), irq, 10000);
    CHECK(text_of(one) ==
          "    waker:           [hardirq]\n"
          "    hrtimer_wakeup\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    schedule\n"
          "    nanosleep\n"
          "    target:          sleeper 9\n"
          "        10\n"
          "\n");
}

TEST_CASE("text: preempted and unseen wakers, and chains without wakers") {
    WakeChain one = chain("spinner", 5, stack({"spin"}), stack({"preempt_schedule"}),
                          context_waker(WakerContext::preempted), 4000);
    CHECK(text_of(one) ==
          "    waker:           [preempted]\n"
          "    --               --\n"
          "    preempt_schedule\n"
          "    spin\n"
          "    target:          spinner 5\n"
          "        4\n"
          "\n");
    one.wakers.clear();
    CHECK(text_of(one).rfind("    waker:           [unseen waker]\n    --", 0) == 0);
}

TEST_CASE("text: chains print in the given (ascending) order, times in whole microseconds") {
    const Waker waker = task_waker("w", 1, Stack{}, Stack{});
    const Profile profile = profile_of({
        chain("a", 10, Stack{}, Stack{}, waker, 999),
        chain("b", 11, Stack{}, Stack{}, waker, 1999),
        chain("c", 12, Stack{}, Stack{}, waker, 5000000000ULL),
    });
    CHECK(format_text(profile, {}) ==
          "    waker:           w 1\n    --               --\n    target:          a 10\n"
          "        0\n\n"
          "    waker:           w 1\n    --               --\n    target:          b 11\n"
          "        1\n\n"
          "    waker:           w 1\n    --               --\n    target:          c 12\n"
          "        5000000\n\n");
}

TEST_CASE("text: unresolved frames, newlines in names, an empty profile") {
    Stack odd = stack({"line\nbreak"});
    odd.frames.push_back(Frame{0xffff, "", "[kernel]", 0, "", 0, false, std::nullopt, ""});
    const WakeChain one =
        chain("two\nlines", 3, Stack{}, odd, task_waker("waker;x", 2, Stack{}, Stack{}), 1000);
    CHECK(text_of(one) ==
          "    waker:           waker;x 2\n"
          "    --               --\n"
          "    line break\n"
          "    [unknown]\n"
          "    target:          two lines 3\n"
          "        1\n"
          "\n");
    CHECK(format_text(Profile{}, {}).empty());
}

TEST_CASE("text header: offwaketime's words for stack kinds and how long tracing runs") {
    const CaptureMode offwake = CaptureMode::offwake;
    CHECK(format_text_header(StackKinds::both, offwake, std::nullopt) ==
          "Tracing blocked time (us) by user + kernel off-CPU and waker stack... Hit Ctrl-C to end.\n");
    CHECK(format_text_header(StackKinds::kernel_only, offwake, 5.0) ==
          "Tracing blocked time (us) by kernel off-CPU and waker stack for 5 secs.\n");
    CHECK(format_text_header(StackKinds::user_only, offwake, 2.5, "make") ==
          "Tracing blocked time (us) by user off-CPU and waker stack for 2.5 secs.\n");
    CHECK(format_text_header(StackKinds::both, offwake, std::nullopt, "make") ==
          "Tracing blocked time (us) by user + kernel off-CPU and waker stack until make exits.\n");
}

TEST_CASE("text header: the offcpu and wakeup modes say what they trace") {
    CHECK(format_text_header(StackKinds::both, CaptureMode::offcpu, std::nullopt) ==
          "Tracing off-CPU time (us) of all threads by user + kernel stack... Hit Ctrl-C to end.\n");
    CHECK(format_text_header(StackKinds::kernel_only, CaptureMode::wakeup, 5.0) ==
          "Tracing blocked time (us) by kernel waker stack for 5 secs.\n");
}
