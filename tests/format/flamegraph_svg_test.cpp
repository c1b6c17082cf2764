// SPDX-License-Identifier: LGPL-2.1-or-later
// format_flamegraph_svg on hand-made profiles: what a browser would draw
// before any script runs (widths, merging, colours, labels, tooltips), and
// that any names give well-formed XML. tests/browser opens real ones.
#include <catch2/catch.hpp>

#include "format/format.hpp"

#include "svg_frames.hpp"

using namespace waketrace;
using namespace waketrace::test;

namespace {

constexpr double kInner = 1180;  // the default 1200 pixels less both margins

WakeChain timed(WakeChain one, uint64_t total_ns, uint64_t blocked_ns, uint64_t count = 1) {
    one.total_ns = total_ns;
    one.blocked_ns = blocked_ns;
    one.runqueue_ns = total_ns - blocked_ns;
    one.count = count;
    return one;
}

WakeChain of_target(const std::string& comm, uint64_t total_ns, uint64_t blocked_ns) {
    WakeChain one = futex_chain();
    one.target.comm = comm;
    return timed(one, total_ns, blocked_ns);
}

SvgFrame only(const std::vector<SvgFrame>& frames, const std::string& name) {
    const auto found = named_frames(frames, name);
    REQUIRE(found.size() == 1);
    return found[0];
}

std::string svg_of(const Profile& profile, FlameMetric metric = FlameMetric::total) {
    FlameGraphOptions options;
    options.metric = metric;
    return format_flamegraph_svg(profile, options);
}

// Every '&' outside CDATA starts one of XML's five entities, and every '<'
// starts a tag, a comment, a declaration or CDATA: nothing a name brought
// in is left raw.
bool markup_is_clean(const std::string& svg) {
    for (size_t i = 0; i < svg.size(); ++i) {
        if (svg.compare(i, 9, "<![CDATA[") == 0) {
            i = svg.find("]]>", i);
            if (i == std::string::npos)
                return false;
            continue;
        }
        if (svg[i] == '&') {
            bool entity = false;
            for (const char* name : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                entity = entity || svg.compare(i, std::char_traits<char>::length(name), name) == 0;
            if (!entity)
                return false;
        }
        if (svg[i] == '<' && !(std::isalpha(uint8_t(svg[i + 1])) || svg[i + 1] == '/' || svg[i + 1] == '?' ||
                               svg[i + 1] == '!'))
            return false;
    }
    return true;
}

}  // namespace

TEST_CASE("flame graph: a self-contained SVG document with its script and controls") {
    const std::string svg = svg_of(profile_of({futex_chain()}));
    CHECK(svg.rfind("<?xml version=\"1.0\"", 0) == 0);
    CHECK(svg.find("<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.find("<script type=\"text/ecmascript\"><![CDATA[") != std::string::npos);
    CHECK(svg.find("Reset Zoom") != std::string::npos);
    CHECK(svg.find(">Search</text>") != std::string::npos);
    CHECK(svg.find("class=\"metric on\" data-metric=\"total\"") != std::string::npos);
    CHECK(svg.find("Off-CPU time by wake chain") != std::string::npos);
    CHECK(svg.find("href") == std::string::npos);  // nothing fetched from elsewhere
    CHECK(svg.size() > 1000);
    CHECK(svg.compare(svg.size() - 7, 7, "</svg>\n") == 0);
}

TEST_CASE("flame graph: widths are proportional to the chosen time and fill the graph") {
    // alpha: 3 us off CPU, 1 us of it blocked; beta: 1 us, all blocked.
    const Profile profile = profile_of({of_target("alpha", 3000, 1000), of_target("beta", 1000, 1000)});
    const auto frames = svg_frames(svg_of(profile));
    const SvgFrame all = only(frames, "all");
    CHECK(all.depth == 0);
    CHECK(all.x == Approx(10));
    CHECK(all.width == Approx(kInner));
    const SvgFrame alpha = only(frames, "alpha");
    const SvgFrame beta = only(frames, "beta");
    CHECK(alpha.depth == 1);
    CHECK(alpha.width == Approx(kInner * 3 / 4));
    CHECK(beta.width == Approx(kInner / 4));
    // Siblings in name order, side by side.
    CHECK(alpha.x == Approx(10));
    CHECK(beta.x == Approx(10 + kInner * 3 / 4));
    // Each frame carries its place under all three metrics.
    CHECK(alpha.value[0] == 3000);
    CHECK(alpha.value[1] == 1000);
    CHECK(alpha.value[2] == 2000);
    CHECK(beta.start[0] == 3000);
    CHECK(beta.start[1] == 1000);
    CHECK(beta.start[2] == 2000);
    CHECK(beta.value[2] == 0);

    SECTION("by blocked time") {
        const auto blocked = svg_frames(svg_of(profile, FlameMetric::blocked));
        CHECK(only(blocked, "alpha").width == Approx(kInner / 2));
        CHECK(only(blocked, "beta").width == Approx(kInner / 2));
        CHECK_FALSE(only(blocked, "beta").hidden);
    }
    SECTION("by runqueue time: a frame without any is drawn hidden, for the switch to show") {
        const auto runqueue = svg_frames(svg_of(profile, FlameMetric::runqueue));
        CHECK(only(runqueue, "alpha").width == Approx(kInner));
        CHECK(only(runqueue, "beta").hidden);
        CHECK(only(runqueue, "beta").width == 0);
    }
}

TEST_CASE("flame graph: a frame's children lie on it, one level up") {
    const auto frames = svg_frames(svg_of(profile_of({futex_chain()})));
    const SvgFrame worker = only(frames, "worker");
    const SvgFrame loop = only(frames, "worker_loop");
    CHECK(loop.depth == worker.depth + 1);
    CHECK(loop.y == Approx(worker.y - 16));
    CHECK(loop.x == Approx(worker.x));
    CHECK(loop.width == Approx(worker.width));
}

TEST_CASE("flame graph: chains sharing a prefix share its frames") {
    WakeChain other = futex_chain();
    other.wakers[0] =
        task_waker("other", 43, stack({"other_signal"}), stack({"try_to_wake_up", "other_wake"}));
    const Profile profile = profile_of({timed(futex_chain(), 6000, 6000, 2), timed(other, 2000, 2000, 5)});
    const auto frames = svg_frames(svg_of(profile));
    for (const char* shared :
         {"worker", "worker_loop", "futex_wait", "finish_task_switch", "try_to_wake_up"}) {
        const SvgFrame f = only(frames, shared);
        CHECK(f.width == Approx(kInner));
        CHECK(f.count == 7);
    }
    CHECK(only(frames, "wake_up_q").width == Approx(kInner * 6 / 8));
    CHECK(only(frames, "other_wake").width == Approx(kInner * 2 / 8));
    CHECK(only(frames, "other_wake").count == 5);
    // Where they part, the later name starts where the earlier ends.
    CHECK(only(frames, "wake_up_q").x == Approx(only(frames, "other_wake").x + kInner * 2 / 8));
}

TEST_CASE("flame graph: tooltips give microseconds, shares and counts") {
    const Profile profile = profile_of({timed(futex_chain(), 1234567, 1000000, 3),
                                        timed(of_target("beta", 3703701, 3000000), 3703701, 3000000, 1)});
    const auto frames = svg_frames(svg_of(profile));
    const SvgFrame worker = only(frames, "worker");
    CHECK(worker.title.find("target: ") != std::string::npos);
    CHECK(worker.title.find("off-CPU 1,235 \u00b5s (25.00%)") != std::string::npos);
    CHECK(worker.title.find("blocked 1,000 \u00b5s (25.00%)") != std::string::npos);
    CHECK(worker.title.find("runqueue 235 \u00b5s (25.00%)") != std::string::npos);
    CHECK(worker.title.find("3 periods") != std::string::npos);
    CHECK(only(frames, "beta").title.find("1 period") != std::string::npos);
    CHECK(only(frames, "all").title.find("all 2 chains") != std::string::npos);
    for (const SvgFrame& producer : named_frames(frames, "producer"))
        CHECK(producer.title.find("waker 1: woke the target") != std::string::npos);
}

TEST_CASE("flame graph: each part of a chain in its colour family") {
    // relay-3 <- relay-2 <- relay-1 <- [hardirq]; every frame names its thread.
    const auto frames = svg_frames(svg_of(profile_of({relay_chain(3)})));
    for (const char* target : {"relay-3", "relay3_main", "relay3_receive", "relay3_pipe_read"}) {
        const SvgFrame f = only(frames, target);
        INFO(target);
        CHECK((f.red == f.green && f.blue > f.red + 40));  // blue
    }
    for (const char* first_level : {"relay2_ksys_write", "relay2_send", "relay-2"}) {
        const SvgFrame f = only(frames, first_level);
        INFO(first_level);
        CHECK((f.green == f.blue && f.green > f.red + 40));  // aqua
    }
    for (const char* second_level : {"relay2_pipe_read", "relay2_receive", "relay1_ksys_write", "relay-1"}) {
        const SvgFrame f = only(frames, second_level);
        INFO(second_level);
        CHECK((f.red == f.blue && f.green > f.red + 40));  // green
    }
    for (const char* third_level : {"do_nanosleep", "clock_nanosleep"}) {
        const SvgFrame f = only(frames, third_level);
        INFO(third_level);
        CHECK((f.red == f.green && f.red > f.blue + 40));  // yellow
    }
    for (const char* interrupt : {"hrtimer_wakeup", "hrtimer_interrupt", "[hardirq]"}) {
        const SvgFrame f = only(frames, interrupt);
        INFO(interrupt);
        CHECK((f.red > f.green && f.green > f.blue && f.blue == 0));  // orange
    }
    for (const SvgFrame& separator : named_frames(frames, "--"))
        CHECK((separator.red == separator.green && separator.green == separator.blue));
    CHECK(named_frames(frames, "--").size() == 5);
    // The legend names every part present.
    const std::string svg = svg_of(profile_of({relay_chain(3)}));
    for (const char* entry : {">target<", ">waker 1<", ">waker 2<", ">waker 3<", ">interrupt<"})
        CHECK(svg.find(entry) != std::string::npos);
}

TEST_CASE("flame graph: a chain cut short shows why, in grey") {
    const auto frames = svg_frames(svg_of(profile_of({relay_chain(2, ChainEnd::waker_lost)})));
    const SvgFrame end = only(frames, "[waker&apos;s wait lost]");
    CHECK((end.red == end.green && end.green == end.blue));
    CHECK(end.title.find("why the chain shows no deeper waker") != std::string::npos);
}

TEST_CASE("flame graph: labels are cut to fit their frame") {
    WakeChain wide = futex_chain();
    wide.target.comm = "a_rather_long_thread_name";
    wide.user_stack = stack({std::string(300, 'x').c_str()});
    const Profile profile = profile_of({timed(wide, 990000, 990000), of_target("tiny", 2000, 2000)});
    const auto frames = svg_frames(svg_of(profile));
    const SvgFrame comm = only(frames, "a_rather_long_thread_name");
    CHECK(comm.label == "a_rather_long_thread_name");
    const SvgFrame long_frame = only(frames, std::string(300, 'x'));
    CHECK(long_frame.label.size() < 300);
    CHECK(long_frame.label.size() > 100);
    CHECK(long_frame.label.substr(long_frame.label.size() - 2) == "..");
    // 2/992 of 1180 pixels: room for no character.
    CHECK(only(frames, "tiny").label.empty());
}

TEST_CASE("flame graph: frames too narrow under every metric are left out") {
    const Profile profile =
        profile_of({of_target("big", 1000000000, 1000000000), of_target("speck", 10, 10)});
    const auto frames = svg_frames(svg_of(profile));
    CHECK(named_frames(frames, "big").size() == 1);
    CHECK(named_frames(frames, "speck").empty());
    CHECK(only(frames, "all").value[0] == 1000000010);  // still counted in the whole
}

TEST_CASE("flame graph: names are escaped and any bytes give well-formed XML") {
    WakeChain odd = futex_chain();
    odd.target.comm = "<evil&\"'>";
    odd.user_stack = stack({"operator<<(std::ostream&, char const*)", "bad\xFF\xE2\x82utf8", "bell\x07here"});
    odd.wakers[0] = task_waker("]]>", 5, stack({"</script>"}), stack({"try_to_wake_up"}));
    FlameGraphOptions options;
    options.title = "Title & <subtitle>";
    const std::string svg = format_flamegraph_svg(profile_of({odd}), options);
    CHECK(markup_is_clean(svg));
    const auto frames = svg_frames(svg);
    CHECK(named_frames(frames, "&lt;evil&amp;&quot;&apos;&gt;").size() == 1);
    CHECK(named_frames(frames, "operator&lt;&lt;(std::ostream&amp;, char const*)").size() == 1);
    // One U+FFFD for the stray byte, one for the sequence cut short.
    CHECK(named_frames(frames, "bad\xEF\xBF\xBD\xEF\xBF\xBDutf8").size() == 1);
    CHECK(named_frames(frames, "bell\xEF\xBF\xBDhere").size() == 1);
    CHECK(named_frames(frames, "]]&gt;").size() == 1);
    CHECK(named_frames(frames, "&lt;/script&gt;").size() == 1);
    CHECK(svg.find("Title &amp; &lt;subtitle&gt;") != std::string::npos);
    CHECK(svg.find("<evil") == std::string::npos);
    CHECK(svg.find("\x07") == std::string::npos);
    CHECK(svg.find("\xFF") == std::string::npos);
}

TEST_CASE("flame graph: an empty profile is a picture that says so") {
    const std::string svg = svg_of(Profile{});
    CHECK(svg_frames(svg).empty());
    CHECK(svg.find("No off-CPU time was recorded.") != std::string::npos);
    CHECK(markup_is_clean(svg));
    CHECK(svg.compare(svg.size() - 7, 7, "</svg>\n") == 0);
}

TEST_CASE("flame graph: the switch offers only metrics with time in them") {
    WakeChain preempted = futex_chain();
    preempted.wakers[0] = context_waker(WakerContext::preempted);
    const std::string svg = svg_of(profile_of({timed(preempted, 5000, 0)}));
    CHECK(svg.find("data-metric=\"total\" x=") != std::string::npos);
    CHECK(svg.find("data-metric=\"runqueue\" x=") != std::string::npos);
    CHECK(svg.find("data-metric=\"blocked\" x=") == std::string::npos);
}
