// SPDX-License-Identifier: LGPL-2.1-or-later
// Telling hardirq, softirq and NMI wakings apart by their kernel stacks.
#include <catch2/catch.hpp>

#include "assemble/interrupt_context.hpp"

namespace wt = waketrace;
namespace detail = waketrace::detail;

namespace {

// Frames leaf first, like the kernel reports them.
wt::Stack kernel_stack(std::initializer_list<const char*> names) {
    wt::Stack stack{wt::StackStatus::ok, 0, {}};
    uint64_t address = 0xffffffff81000000;
    for (const char* name : names)
        stack.frames.push_back({address += 0x10, name, "[kernel]", 0, "", 0, false, std::nullopt, ""});
    return stack;
}

wt::Waker task_waker(wt::Stack kernel) {
    wt::Waker waker;
    waker.context = wt::WakerContext::task;
    waker.task = {42, 40, "worker"};
    waker.kernel_stack = std::move(kernel);
    waker.user_stack = {
        wt::StackStatus::ok, 0, {{0x401000, "main", "/bin/worker", 0, "", 0, false, std::nullopt, ""}}};
    return waker;
}

}  // namespace

TEST_CASE("a timer interrupt taken in user mode is a hardirq waking, cut at its entry") {
    wt::Waker waker = task_waker(kernel_stack(
        {"try_to_wake_up", "hrtimer_wakeup", "__hrtimer_run_queues", "hrtimer_interrupt",
         "__sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt", "asm_sysvec_apic_timer_interrupt"}));
    detail::settle_waker_context(waker);
    CHECK(waker.context == wt::WakerContext::hardirq);
    CHECK(waker.task.tid == 0);
    CHECK(waker.task.comm.empty());
    CHECK(waker.user_stack.status == wt::StackStatus::irq_dropped);
    CHECK(waker.user_stack.frames.empty());
    REQUIRE(waker.kernel_stack.frames.size() == 5);
    CHECK(waker.kernel_stack.frames.back().symbol == "__sysvec_apic_timer_interrupt");
}

TEST_CASE("softirq work run by a task (local_bh_enable, ksoftirqd) is a softirq waking") {
    wt::Waker waker =
        task_waker(kernel_stack({"try_to_wake_up", "sock_def_readable", "tcp_v4_rcv", "net_rx_action",
                                 "handle_softirqs", "do_softirq", "__local_bh_enable_ip", "tcp_sendmsg"}));
    detail::settle_waker_context(waker);
    CHECK(waker.context == wt::WakerContext::softirq);
    CHECK(waker.task.tid == 0);
    CHECK(waker.kernel_stack.frames.back().symbol == "handle_softirqs");
}

TEST_CASE("the innermost interrupt wins") {
    SECTION("a hardirq that interrupted softirq work") {
        const auto entry = detail::innermost_interrupt(
            kernel_stack({"try_to_wake_up", "hrtimer_wakeup", "__sysvec_apic_timer_interrupt",
                          "asm_sysvec_apic_timer_interrupt", "net_rx_action", "handle_softirqs"})
                .frames);
        REQUIRE(entry);
        CHECK(entry->context == wt::WakerContext::hardirq);
        CHECK(entry->frame_index == 2);
    }
    SECTION("an NMI") {
        const auto entry =
            detail::innermost_interrupt(kernel_stack({"try_to_wake_up", "irq_work_run", "nmi_handle",
                                                      "default_do_nmi", "exc_nmi", "asm_exc_nmi"})
                                            .frames);
        REQUIRE(entry);
        CHECK(entry->context == wt::WakerContext::nmi);
    }
}

TEST_CASE("a task waking in a syscall stays a task waking") {
    wt::Waker waker = task_waker(kernel_stack({"try_to_wake_up", "__wake_up_common", "anon_pipe_write",
                                               "vfs_write", "ksys_write", "do_syscall_64"}));
    detail::settle_waker_context(waker);
    CHECK(waker.context == wt::WakerContext::task);
    CHECK(waker.task.tid == 42);
    CHECK(waker.user_stack.status == wt::StackStatus::ok);
    CHECK(waker.kernel_stack.frames.size() == 6);
}

TEST_CASE("an interrupt-stack waking with no known entry frame stays hardirq, uncut") {
    wt::Waker waker = task_waker(kernel_stack({"try_to_wake_up", "[unknown]"}));
    waker.context = wt::WakerContext::hardirq;
    waker.task = {};
    detail::settle_waker_context(waker);
    CHECK(waker.context == wt::WakerContext::hardirq);
    CHECK(waker.kernel_stack.frames.size() == 2);
}
