// SPDX-License-Identifier: LGPL-2.1-or-later
// The flight recorder's window: what it keeps, and the wake chain it finds
// behind a stall among the periods it holds.
#include <catch2/catch.hpp>

#include "assemble/event_window.hpp"

namespace wt = waketrace;
using wt::detail::EventWindow;

namespace {

constexpr uint64_t kMs = 1'000'000;

wt::OffCpuEvent period(uint32_t tid, uint64_t out_ms, uint64_t waking_ms, uint64_t in_ms,
                       uint32_t waker_tid) {
    wt::OffCpuEvent event;
    event.target = wt::Task{tid, 100, "t" + std::to_string(tid)};
    event.switch_out_ns = out_ms * kMs;
    event.waking_ns = waking_ms * kMs;
    event.switch_in_ns = in_ms * kMs;
    event.state = 1;
    if (waker_tid) {
        event.waker_context = wt::WakerContext::task;
        event.waker = wt::Task{waker_tid, 100, "t" + std::to_string(waker_tid)};
    } else {
        event.waker_context = wt::WakerContext::hardirq;
    }
    return event;
}

}  // namespace

TEST_CASE("event window: keeps what ended within its span, at most its count") {
    EventWindow window(100 * kMs, 1000);
    for (uint64_t ms = 0; ms < 500; ms += 10)
        window.add(period(1, ms, ms + 4, ms + 5, 2));
    // The newest ended at 495 ms: those that ended from 395 ms on stay.
    const std::vector<wt::OffCpuEvent> kept = window.events();
    REQUIRE(!kept.empty());
    CHECK(kept.front().switch_in_ns == 395 * kMs);
    CHECK(kept.back().switch_in_ns == 495 * kMs);
    CHECK(window.evicted_early() == 0);

    EventWindow small(100 * kMs, 3);
    for (uint64_t ms = 0; ms < 50; ms += 10)
        small.add(period(1, ms, ms + 4, ms + 5, 2));
    CHECK(small.size() == 3);
    CHECK(small.evicted_early() == 2);
    CHECK(small.events().front().switch_in_ns == 25 * kMs);
}

TEST_CASE("event window: the wake chain follows wakers that waited during the stall") {
    EventWindow window(10'000 * kMs, 1000);
    // The timer woke 3 at 280 ms; 3 woke 2 at 290; 2 woke 1, stalled since
    // 0, at 300. 4 woke 3 earlier, before the stall: not part of it.
    window.add(period(3, 0, 1, 2, 4));
    window.add(period(3, 10, 280, 281, 0));
    window.add(period(2, 5, 290, 291, 3));
    const wt::OffCpuEvent stall = period(1, 0, 300, 301, 2);
    window.add(stall);
    const std::vector<wt::OffCpuEvent> chain = window.wake_chain(stall);
    REQUIRE(chain.size() == 2);
    CHECK(chain[0].target.tid == 2);
    CHECK(chain[0].switch_in_ns == 291 * kMs);
    CHECK(chain[1].target.tid == 3);
    CHECK(chain[1].waking_ns == 280 * kMs);  // woken by the timer: the chain ends there
    CHECK(window.wake_chain(stall, 1).size() == 1);
}

TEST_CASE("event window: a waker that ran through the stall, or an interrupt, ends the chain at once") {
    EventWindow window(10'000 * kMs, 1000);
    window.add(period(2, 0, 1, 2, 3));  // 2's last wait ended before 1 stalled
    const wt::OffCpuEvent stall = period(1, 10, 300, 301, 2);
    window.add(stall);
    CHECK(window.wake_chain(stall).empty());
    const wt::OffCpuEvent by_timer = period(5, 10, 300, 301, 0);
    CHECK(window.wake_chain(by_timer).empty());
    const wt::OffCpuEvent by_untraced = period(6, 10, 300, 301, 99);
    CHECK(window.wake_chain(by_untraced).empty());
}
