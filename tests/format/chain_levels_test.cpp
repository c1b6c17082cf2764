// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Chains of more than one waker level (Config::chain_depth > 1) in both
// layouts: hops in order, blocked stacks where they belong, overlaps, and why
// a chain ends. A chain of one complete level must print as offwaketime's
// layout, which text_test.cpp and folded_test.cpp pin down.
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

std::string text_of(const WakeChain& one, FormatOptions options = {}) {
    return format_text(profile_of({one}), options);
}

std::string folded_of(const WakeChain& one, FormatOptions options = {}) {
    return format_folded(profile_of({one}), options);
}

// What a chain of one level prints below any deeper level: relay-2 woke the
// target, relay-3.
const std::string kFirstLevelText =
    "    waker:           relay-2 302\n"
    "    relay2_main\n"
    "    relay2_send\n"
    "    write\n"
    "    relay2_ksys_write\n"
    "    pipe_write\n"
    "    try_to_wake_up\n"
    "    --               --\n"
    "    __schedule\n"
    "    schedule\n"
    "    relay3_pipe_read\n"
    "    read\n"
    "    relay3_receive\n"
    "    relay3_main\n"
    "    target:          relay-3 303\n"
    "        2100\n"
    "\n";

const std::string kFirstLevelFolded =
    "relay-3;relay3_main;relay3_receive;read;relay3_pipe_read;schedule;"
    "__schedule;--;try_to_wake_up;pipe_write;relay2_ksys_write;write;"
    "relay2_send;relay2_main;relay-2";

}  // namespace

TEST_CASE("chains: one complete level prints offwaketime's layout, whatever the other fields say") {
    // wakers[0].overlap_ns is the chain's blocked time and is never printed;
    // blocked stacks without a deeper level have nothing to attach to.
    WakeChain one = relay_chain(1);
    CHECK(text_of(one) == kFirstLevelText);
    CHECK(folded_of(one) == kFirstLevelFolded + " 2100\n");
    one.wakers[0] = blocked_in(one.wakers[0], relay_read_user("relay2"), relay_read_kernel("relay2"));
    CHECK(text_of(one) == kFirstLevelText);
    CHECK(folded_of(one) == kFirstLevelFolded + " 2100\n");
}

// The second level's block: relay-1 woke relay-2, which had blocked in its read.
const std::string kSecondLevelText =
    "    waker:           relay-1 301 (overlap 1900 us)\n"
    "    relay1_main\n"
    "    relay1_send\n"
    "    write\n"
    "    relay1_ksys_write\n"
    "    pipe_write\n"
    "    try_to_wake_up\n"
    "    --               --\n"
    "    __schedule\n"
    "    schedule\n"
    "    relay2_pipe_read\n"
    "    read\n"
    "    relay2_receive\n"
    "    relay2_main\n"
    "    blocked:         relay-2 302\n";

TEST_CASE("chains text: two levels, the deeper hop above, its overlap on its waker line") {
    CHECK(text_of(relay_chain(2)) == kSecondLevelText + kFirstLevelText);
}

TEST_CASE("chains text: three levels down to the timer interrupt, deepest first") {
    CHECK(text_of(relay_chain(3)) ==
          "    waker:           [hardirq] (overlap 1850 us)\n"
          "    hrtimer_interrupt\n"
          "    hrtimer_wakeup\n"
          "    try_to_wake_up\n"
          "    --               --\n"
          "    __schedule\n"
          "    schedule\n"
          "    do_nanosleep\n"
          "    clock_nanosleep\n"
          "    relay1_main\n"
          "    blocked:         relay-1 301\n" +
              kSecondLevelText + kFirstLevelText);
}

TEST_CASE("chains text: a chain that stops early says why on its first line") {
    const ChainEnd end = GENERATE(ChainEnd::depth_reached, ChainEnd::waker_untraced, ChainEnd::waker_lost);
    const size_t levels = GENERATE(1, 2);
    CAPTURE(to_string(end), levels);
    const std::string complete = text_of(relay_chain(levels));
    const std::string stopped = text_of(relay_chain(levels, end));
    CHECK(stopped == "    [" + std::string(to_string(end)) + "]\n" + complete);
    if (end == ChainEnd::depth_reached)
        CHECK(stopped.rfind("    [deeper wakers not traced]\n", 0) == 0);
}

TEST_CASE("chains text: stack kinds and the delimiter apply to blocked stacks too") {
    FormatOptions options;
    options.delimiter = true;
    const std::string both = text_of(relay_chain(2), options);
    CHECK(both.find("    relay2_pipe_read\n"
                    "    -\n"
                    "    read\n") != std::string::npos);

    options.stacks = StackKinds::kernel_only;
    const std::string kernel = text_of(relay_chain(2), options);
    CHECK(kernel.find("    --               --\n"
                      "    __schedule\n"
                      "    schedule\n"
                      "    relay2_pipe_read\n"
                      "    blocked:         relay-2 302\n") != std::string::npos);
    CHECK(kernel.find("relay2_receive") == std::string::npos);

    options.stacks = StackKinds::user_only;
    const std::string user = text_of(relay_chain(2), options);
    CHECK(user.find("    --               --\n"
                    "    read\n"
                    "    relay2_receive\n"
                    "    relay2_main\n"
                    "    blocked:         relay-2 302\n") != std::string::npos);
    CHECK(user.find("relay2_pipe_read") == std::string::npos);
}

TEST_CASE("chains text: a level's lost blocked stacks print as missed stacks") {
    WakeChain two = relay_chain(2);
    two.wakers[0] = blocked_in(two.wakers[0], lost(StackStatus::map_full), lost(StackStatus::collision));
    CHECK(text_of(two).find("    --               --\n"
                            "    [Missed Kernel Stack]\n"
                            "    [Missed User Stack]\n"
                            "    blocked:         relay-2 302\n") != std::string::npos);
}

TEST_CASE("chains folded: each deeper level adds the wait it ended and its own stacks") {
    CHECK(folded_of(relay_chain(2)) == kFirstLevelFolded +
                                           ";--;__schedule;schedule;relay2_pipe_read;read;relay2_receive;"
                                           "relay2_main;--;try_to_wake_up;pipe_write;relay1_ksys_write;write;"
                                           "relay1_send;relay1_main;relay-1 2100\n");
    CHECK(folded_of(relay_chain(3)) ==
          kFirstLevelFolded +
              ";--;__schedule;schedule;relay2_pipe_read;read;relay2_receive;relay2_main;--;try_to_wake_up;"
              "pipe_write;relay1_ksys_write;write;relay1_send;relay1_main;relay-1;--;__schedule;schedule;"
              "do_nanosleep;clock_nanosleep;relay1_main;--;try_to_wake_up;hrtimer_wakeup;hrtimer_interrupt;"
              "[hardirq] 2100\n");
}

TEST_CASE("chains folded: a chain that stops early ends in its bracketed reason") {
    const ChainEnd end = GENERATE(ChainEnd::depth_reached, ChainEnd::waker_untraced, ChainEnd::waker_lost);
    const size_t levels = GENERATE(1, 2, 3);
    CAPTURE(to_string(end), levels);
    std::string complete = folded_of(relay_chain(levels));
    const std::string total = complete.substr(complete.rfind(' '));  // " 2100\n"
    complete.resize(complete.size() - total.size());
    CHECK(folded_of(relay_chain(levels, end)) ==
          complete + ";--;[" + std::string(to_string(end)) + "]" + total);
}

TEST_CASE("chains folded: the delimiter and stack kinds apply to blocked stacks too") {
    FormatOptions options;
    options.delimiter = true;
    CHECK(folded_of(relay_chain(2), options).find(";--;__schedule;schedule;relay2_pipe_read;-;read;") !=
          std::string::npos);
    options.stacks = StackKinds::user_only;
    CHECK(folded_of(relay_chain(2), options) ==
          "relay-3;relay3_main;relay3_receive;read;--;write;relay2_send;relay2_main;relay-2;--;read;"
          "relay2_receive;relay2_main;--;write;relay1_send;relay1_main;relay-1 2100\n");
}

TEST_CASE("chain_end_marker and waker_path name a chain's levels") {
    CHECK(chain_end_marker(ChainEnd::depth_reached) == "[deeper wakers not traced]");
    CHECK(chain_end_marker(ChainEnd::waker_untraced) == "[waker's wait not traced]");
    CHECK(chain_end_marker(ChainEnd::waker_lost) == "[waker's wait lost]");
    CHECK(waker_path(relay_chain(1)) == "relay-2-302");
    CHECK(waker_path(relay_chain(3)) == "relay-2-302 <- relay-1-301 <- [hardirq]");
    WakeChain none = relay_chain(1);
    none.wakers.clear();
    CHECK(waker_path(none).empty());
}
