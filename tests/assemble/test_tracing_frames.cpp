// SPDX-License-Identifier: LGPL-2.1-or-later
// The tracing machinery's own frames never reach results.
#include <catch2/catch.hpp>

#include "assemble/profile_builder.hpp"

namespace wt = waketrace;
namespace detail = waketrace::detail;

namespace {
std::vector<wt::Frame> frames(std::initializer_list<const char*> names) {
    std::vector<wt::Frame> result;
    uint64_t address = 0x1000;
    for (const char* name : names)
        result.push_back({address++, name, "[kernel]", 0, "", 0, false, std::nullopt, ""});
    return result;
}

std::vector<std::string> names(const std::vector<wt::Frame>& frames) {
    std::vector<std::string> result;
    for (const wt::Frame& frame : frames)
        result.push_back(frame.symbol);
    return result;
}
}  // namespace

TEST_CASE("tracing frames are cut from the top of kernel stacks, with what sits above them") {
    SECTION("tp_btf-style stack") {
        auto stack =
            frames({"", "bpf_prog_6deef7357e7b4530_sched_switch_btf", "bpf_trace_run4",
                    "__bpf_trace_sched_switch", "__traceiter_sched_switch", "__schedule", "schedule"});
        detail::strip_tracing_frames(stack);
        CHECK(names(stack) == std::vector<std::string>{"__schedule", "schedule"});
    }
    SECTION("a stack without tracing frames is left alone") {
        auto stack = frames({"__schedule", "schedule", "do_nanosleep"});
        detail::strip_tracing_frames(stack);
        CHECK(stack.size() == 3);
    }
    SECTION("past an interrupt entry, what the interrupt hit keeps its BPF frames") {
        // A timer interrupt that ran our waking program hit a task inside
        // bpf(): only the program's own frames, inside the interrupt, go.
        auto stack = frames({"bpf_prog_1_sched_waking_btf", "bpf_trace_run2", "__traceiter_sched_waking",
                             "try_to_wake_up", "hrtimer_wakeup", "__hrtimer_run_queues", "hrtimer_interrupt",
                             "__sysvec_apic_timer_interrupt", "sysvec_apic_timer_interrupt",
                             "asm_sysvec_apic_timer_interrupt", "bpf_prog_2_other", "bpf_prog_test_run",
                             "__sys_bpf", "__x64_sys_bpf"});
        detail::strip_tracing_frames(stack);
        const std::vector<std::string> got = names(stack);
        REQUIRE(got.size() == 11);
        CHECK(got.front() == "try_to_wake_up");
        CHECK(got[4] == "__sysvec_apic_timer_interrupt");
        CHECK(got.back() == "__x64_sys_bpf");
    }
    SECTION("a name merely containing a prefix is kept") {
        auto stack = frames({"__traceiter_sched_waking", "try_to_wake_up", "my_bpf_prog_helper"});
        detail::strip_tracing_frames(stack);
        CHECK(names(stack) == std::vector<std::string>{"try_to_wake_up", "my_bpf_prog_helper"});
    }
}
