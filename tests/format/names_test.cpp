// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

TEST_CASE("frame_name prints the symbol, or [unknown] when unresolved") {
    CHECK(frame_name(named("schedule")) == "schedule");
    Frame unresolved;
    unresolved.address = 0xdeadbeef;
    unresolved.module = "/usr/bin/app";
    CHECK(frame_name(unresolved) == "[unknown]");
}

TEST_CASE("waker_name names tasks by comm and other contexts in brackets") {
    CHECK(waker_name(task_waker("producer", 41, {}, {})) == "producer");
    CHECK(waker_name(task_waker("", 41, {}, {})) == "[unknown]");
    CHECK(waker_name(context_waker(WakerContext::hardirq)) == "[hardirq]");
    CHECK(waker_name(context_waker(WakerContext::softirq)) == "[softirq]");
    CHECK(waker_name(context_waker(WakerContext::nmi)) == "[nmi]");
    CHECK(waker_name(context_waker(WakerContext::preempted)) == "[preempted]");
    CHECK(waker_name(context_waker(WakerContext::unseen)) == "[unseen waker]");
}

TEST_CASE("thread_name keeps valid UTF-8 and replaces each ill-formed sequence with one U+FFFD") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(thread_name("worker-1") == "worker-1");
    CHECK(thread_name("") == "");
    CHECK(thread_name("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    CHECK(thread_name("a\xFF"
                      "b") == "a" + fffd + "b");  // never a lead byte
    CHECK(thread_name("a\x80\x80"
                      "b") == "a" + fffd + fffd + "b");  // stray continuations
    CHECK(thread_name("a\xE2\x82"
                      "b") == "a" + fffd + "b");                          // broken off: one for both
    CHECK(thread_name("end\xE2\x82") == "end" + fffd);                    // cut by the 15-byte comm
    CHECK(thread_name("\xC0\xAF") == fffd + fffd);                        // overlong '/'
    CHECK(thread_name("\xED\xA0\x80") == fffd + fffd + fffd);             // a surrogate
    CHECK(thread_name("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // above U+10FFFF
    CHECK(thread_name("\xF0\x9F\x98"
                      "x") == fffd + "x");
}

TEST_CASE("both layouts show a comm that is not UTF-8 as thread_name does") {
    const std::string raw = "bad\xFF\xE2\x82name";
    const std::string shown = thread_name(raw);
    REQUIRE(shown != raw);
    Profile profile = profile_of({chain(raw, 7, worker_user(), worker_kernel(),
                                        task_waker(raw, 8, producer_user(), producer_kernel()), 5000)});
    const std::string folded = format_folded(profile, {});
    CHECK(folded.rfind(shown + ";", 0) == 0);
    CHECK(folded.find(";" + shown + " 5\n") != std::string::npos);
    CHECK(folded.find(raw) == std::string::npos);
    const std::string text = format_text(profile, {});
    CHECK(text.find("waker:           " + shown + " 8\n") != std::string::npos);
    CHECK(text.find("target:          " + shown + " 7\n") != std::string::npos);
    CHECK(text.find(raw) == std::string::npos);
}
