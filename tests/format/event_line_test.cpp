// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <regex>

#include "format/format.hpp"

using namespace waketrace;

namespace {

// A read woken by a thread the filters leave out, 10.5 ms after it blocked.
OffCpuEvent read_woken_by_untraced_thread() {
    OffCpuEvent event;
    event.target = Task{101, 100, "pong"};
    event.switch_out_ns = 3737'534'001'999;
    event.waking_ns = event.switch_out_ns + 10'500'000;
    event.switch_in_ns = event.waking_ns + 14'000;
    event.state = 1;
    event.waker = Task{7, 7, "my worker"};
    event.waker_outside_filters = true;
    return event;
}

}  // namespace

TEST_CASE("event line: switch-out time, thread, state, the three lengths, where it blocked, its waker") {
    CHECK(format_event_line(read_woken_by_untraced_thread(), "__GI___libc_read") ==
          "3737.534001 pong-101 pid=100 state=S off_us=10514 blocked_us=10500 runqueue_us=14 "
          "in=__GI___libc_read waker=my worker-7 (untraced)\n");
}

// A demangled C++ name holds spaces; the README's rule for reading a line
// (the function runs up to " waker=", the waker to the end) still splits it.
TEST_CASE("event line: a function name with spaces still splits into its fields") {
    OffCpuEvent event = read_woken_by_untraced_thread();
    event.state = 0x2001;
    event.waking_ns = 0;
    event.waker_context = WakerContext::preempted;
    std::string line = format_event_line(event, "internal_syscall<int, long unsigned int>");
    std::smatch fields;
    REQUIRE(std::regex_match(line, fields,
                             std::regex(R"(^(\S+) (.+)-(\d+) pid=(\d+) state=(\S+) off_us=(\d+) )"
                                        R"(blocked_us=(\d+) runqueue_us=(\d+) in=(.+?) waker=(.+)\n$)")));
    CHECK(fields[2] == "pong");
    CHECK(fields[5] == "0x2001");
    CHECK(fields[7] == "0");
    CHECK(fields[8] == "10514");
    CHECK(fields[9] == "internal_syscall<int, long unsigned int>");
    CHECK(fields[10] == "[preempted]");
}

TEST_CASE("event line: a period with no named frame shows '-'") {
    CHECK(format_event_line(read_woken_by_untraced_thread(), "").find(" in=- waker=") != std::string::npos);
}
