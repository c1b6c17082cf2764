// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <waketrace/format.hpp>

#include "builders.hpp"

using namespace waketrace;
using namespace waketrace::test;

TEST_CASE("frame_name prints the symbol, or [unknown] when unresolved")
{
    CHECK(frame_name(named("schedule")) == "schedule");
    Frame unresolved;
    unresolved.address = 0xdeadbeef;
    unresolved.module = "/usr/bin/app";
    CHECK(frame_name(unresolved) == "[unknown]");
}

TEST_CASE("waker_name names tasks by comm and other contexts in brackets")
{
    CHECK(waker_name(task_waker("producer", 41, {}, {})) == "producer");
    CHECK(waker_name(task_waker("", 41, {}, {})) == "[unknown]");
    CHECK(waker_name(context_waker(WakerContext::hardirq)) == "[hardirq]");
    CHECK(waker_name(context_waker(WakerContext::softirq)) == "[softirq]");
    CHECK(waker_name(context_waker(WakerContext::nmi)) == "[nmi]");
    CHECK(waker_name(context_waker(WakerContext::preempted)) == "[preempted]");
    CHECK(waker_name(context_waker(WakerContext::unseen)) == "[unseen waker]");
}
