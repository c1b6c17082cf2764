// SPDX-License-Identifier: LGPL-2.1-or-later
// Two folded profiles compared: the folded-file reader, the merged tree and
// its colours, and the differential SVG as a browser would first draw it
// (tests/browser opens a real one).
#include <catch2/catch.hpp>

#include <regex>

#include "format/flame_diff.hpp"
#include "format/format.hpp"

using namespace waketrace;
using namespace waketrace::format_internal;

namespace {

constexpr double kInner = 1180;  // the default 1200 pixels less both margins

struct DiffFrame {
    uint32_t depth = 0;
    uint64_t before = 0;
    uint64_t after = 0;
    int64_t delta = 0;
    bool hidden = false;
    std::string name;
    std::string title;
    double width = 0;
    int red = 0;
    int green = 0;
    int blue = 0;
};

std::vector<DiffFrame> diff_frames(const std::string& svg) {
    static const std::regex frame(
        R"re(<g data-depth="(\d+)" data-before-us="(\d+)" data-after-us="(\d+)" data-delta-us="(-?\d+)" )re"
        R"re(data-after="\d+ \d+" data-before="\d+ \d+"( class="hide")?><title>([^<]*)</title>)re"
        R"re(<rect x="[-\d.]+" y="[-\d.]+" width="([\d.]+)" height="[\d.]+" rx="2" ry="2" )re"
        R"re(fill="rgb\((\d+),(\d+),(\d+)\)"/>)re");
    std::vector<DiffFrame> frames;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), frame); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        DiffFrame f;
        f.depth = uint32_t(std::stoul(m[1]));
        f.before = std::stoull(m[2]);
        f.after = std::stoull(m[3]);
        f.delta = std::stoll(m[4]);
        f.hidden = m[5].matched;
        f.title = m[6];
        f.name = f.title.substr(0, f.title.find('\n'));
        f.width = std::stod(m[7]);
        f.red = std::stoi(m[8]);
        f.green = std::stoi(m[9]);
        f.blue = std::stoi(m[10]);
        frames.push_back(f);
    }
    return frames;
}

DiffFrame at(const std::vector<DiffFrame>& frames, uint32_t depth, const std::string& name) {
    std::vector<DiffFrame> found;
    for (const DiffFrame& f : frames)
        if (f.depth == depth && f.name == name)
            found.push_back(f);
    REQUIRE(found.size() == 1);
    return found[0];
}

// "main" grew (read 100 -> 300), "write" shrank (100 -> 50), "poll" did not
// change (200), "sleep" is gone (80 -> none), "accept" is new (none -> 20).
const std::string kBefore = "app;main;read 100\napp;main;write 100\napp;poll 200\napp;sleep 80\n";
const std::string kAfter = "app;main;read 300\napp;main;write 50\napp;poll 200\napp;accept 20\n";

}  // namespace

TEST_CASE("folded reader: frames before the last space, a whole number after it") {
    const auto stacks = parse_folded("a;b c;d 12\n\n  \r\nx 18446744073709551615\r\nsolo 0");
    REQUIRE(stacks.size() == 3);
    CHECK(stacks[0].frames == "a;b c;d");
    CHECK(stacks[0].value == 12);
    CHECK(stacks[1].frames == "x");
    CHECK(stacks[1].value == 18446744073709551615u);
    CHECK(stacks[2].frames == "solo");
    CHECK(stacks[2].value == 0);
    CHECK(parse_folded("").empty());
}

TEST_CASE("folded reader: a line that is not folded names its line number") {
    struct Case {
        std::string text;
        size_t line;
    };
    const Case cases[] = {
        {"a;b 1\nTracing blocked time (us) by user + kernel off-CPU and waker stack... Hit Ctrl-C to end.\n",
         2},
        {"a;b 1\n\nc;d 2\nnovalue\n", 4},
        {"a;b 1.5\n", 1},
        {"a;b -3\n", 1},
        {" 7\n", 1},
        {"a;b 18446744073709551616\n", 1},
        {"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", 1},
        {"a;b 1\nc;d 2 \n", 2},
    };
    for (const Case& bad : cases) {
        INFO(bad.text);
        try {
            parse_folded(bad.text);
            FAIL("no error");
        } catch (const FoldedSyntaxError& e) {
            CHECK(e.line == bad.line);
            CHECK_THAT(e.what(), Catch::StartsWith("line " + std::to_string(bad.line) + ": "));
        }
    }
}

TEST_CASE("diff tree: each frame sums both sides over the stacks through it") {
    const DiffNode root = build_diff_tree(parse_folded(kBefore), parse_folded(kAfter));
    CHECK(root.before == 480);
    CHECK(root.after == 570);
    REQUIRE(root.children.size() == 1);
    const DiffNode& app = root.children[0];
    std::vector<std::string> names;
    for (const DiffNode& child : app.children)
        names.push_back(child.name);
    CHECK(names == std::vector<std::string>{"accept", "main", "poll", "sleep"});
    CHECK(app.children[1].before == 200);
    CHECK(app.children[1].after == 350);
    CHECK(app.children[3].before == 80);
    CHECK(app.children[3].after == 0);
    // The largest change below the root: "read", +200 (its parent "main" grew by 150).
    CHECK(largest_change(root) == 200);
}

TEST_CASE("diff tree: repeated lines add up, as flamegraph.pl adds them") {
    const DiffNode root = build_diff_tree(parse_folded("a;b 1\na;b 2\n"), parse_folded("a;b 10\n"));
    REQUIRE(root.children.size() == 1);
    CHECK(root.children[0].children[0].before == 3);
    CHECK(root.children[0].children[0].after == 10);
}

TEST_CASE("diff colours: red grew, blue shrank, grey unchanged, stronger for larger changes") {
    const Rgb grew = diff_colour(50, 100);
    CHECK(grew.red == 255);
    CHECK(grew.green == grew.blue);
    CHECK(grew.green < 255);
    const Rgb shrank = diff_colour(-50, 100);
    CHECK(shrank.blue == 255);
    CHECK(shrank.red == shrank.green);
    const Rgb same = diff_colour(0, 100);
    CHECK((same.red == same.green && same.green == same.blue));
    CHECK(diff_colour(100, 100).green < diff_colour(10, 100).green);
    CHECK(diff_colour(-100, 100).red < diff_colour(-10, 100).red);
    CHECK(diff_colour(100, 100).green == 0);
    // The faintest change is still tinted, not grey.
    CHECK(diff_colour(1, 1000000).green < 255);
}

TEST_CASE("diff graph: widths by AFTER, colours by the change, both values in the tooltip") {
    DiffGraphOptions options;
    options.before_name = "one.folded";
    options.after_name = "two.folded";
    const std::string svg = format_diff_flamegraph_svg(parse_folded(kBefore), parse_folded(kAfter), options);
    const auto frames = diff_frames(svg);

    const DiffFrame all = at(frames, 0, "all");
    CHECK(all.width == Approx(kInner));
    const DiffFrame read = at(frames, 3, "read");
    CHECK(read.width == Approx(kInner * 300 / 570).margin(0.01));
    CHECK(read.delta == 200);
    CHECK((read.red == 255 && read.green == 0 && read.blue == 0));  // the largest change: full red
    const DiffFrame write = at(frames, 3, "write");
    CHECK(write.width == Approx(kInner * 50 / 570).margin(0.01));
    CHECK((write.blue == 255 && write.red == write.green && write.red > 0));  // shrank, by less
    const DiffFrame poll = at(frames, 2, "poll");
    CHECK((poll.red == poll.green && poll.green == poll.blue));
    CHECK(poll.width == Approx(kInner * 200 / 570).margin(0.01));
    const DiffFrame accept = at(frames, 2, "accept");
    CHECK(accept.red == 255);
    CHECK(accept.title.find("one.folded 0 \u00b5s, two.folded 20 \u00b5s") != std::string::npos);
    CHECK(accept.title.find("change +20 \u00b5s (new)") != std::string::npos);
    CHECK(read.title ==
          "read\none.folded 100 \u00b5s, two.folded 300 \u00b5s\nchange +200 \u00b5s (+200.0%)");
}

TEST_CASE("diff graph: stacks only in BEFORE are kept, hidden under AFTER's widths, and counted") {
    const std::string svg = format_diff_flamegraph_svg(parse_folded(kBefore), parse_folded(kAfter), {});
    const DiffFrame sleep = at(diff_frames(svg), 2, "sleep");
    CHECK(sleep.hidden);
    CHECK(sleep.before == 80);
    CHECK(sleep.after == 0);
    CHECK(sleep.blue == 255);
    CHECK(svg.find("1 stack (80 \u00b5s) only in before") != std::string::npos);

    DiffGraphOptions by_before;
    by_before.widths_by_before = true;
    const std::string opened =
        format_diff_flamegraph_svg(parse_folded(kBefore), parse_folded(kAfter), by_before);
    const DiffFrame shown = at(diff_frames(opened), 2, "sleep");
    CHECK_FALSE(shown.hidden);
    CHECK(shown.width == Approx(kInner * 80 / 480).margin(0.01));
    CHECK(opened.find("data-metric=\"before\"") != std::string::npos);
}

TEST_CASE("diff graph: vanished stacks are counted once per distinct stack") {
    const auto vanished =
        vanished_stacks(parse_folded("a;b 5\na;b 7\na;c 1\nd 0\n"), parse_folded("a;c 2\n"));
    CHECK(vanished.stacks == 1);
    CHECK(vanished.value == 12);
}

TEST_CASE("diff graph: names are escaped, and two empty profiles still make a document") {
    const std::string svg =
        format_diff_flamegraph_svg(parse_folded("a<&>\"x 5\n"), parse_folded("a<&>\"x 9\n"), {});
    CHECK(svg.find("a&lt;&amp;&gt;&quot;x") != std::string::npos);
    CHECK(svg.find("a<&") == std::string::npos);
    const std::string empty = format_diff_flamegraph_svg({}, {}, {});
    CHECK(empty.find("Neither profile holds a stack.") != std::string::npos);
    CHECK(empty.rfind("</svg>\n") == empty.size() - 7);
}

TEST_CASE("diff graph: sums stop at the largest value instead of wrapping (found by fuzz_folded)") {
    const std::string huge = "a;b 18446744073709551615\na;c 18446744073709551615\n";
    const DiffNode root = build_diff_tree(parse_folded(huge), parse_folded("a;b 1\n"));
    CHECK(root.before == UINT64_MAX);
    CHECK(root.children[0].before == UINT64_MAX);
    CHECK(root.children[0].delta() == -INT64_MAX);
    const auto frames =
        diff_frames(format_diff_flamegraph_svg(parse_folded("a;b 1\n"), parse_folded(huge), {}));
    for (const DiffFrame& frame : frames) {
        INFO(frame.name);
        CHECK(frame.width <= kInner + 0.01);
    }
    CHECK(at(frames, 1, "a").width == Approx(kInner));
}
