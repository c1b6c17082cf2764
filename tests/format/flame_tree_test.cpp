// SPDX-License-Identifier: LGPL-2.1-or-later
// The flame graph's model: each chain's path (the folded line's frames, each
// tagged with its part of the chain), the merged tree, the colour families,
// and XML escaping.
#include <catch2/catch.hpp>

#include <sstream>

#include "format/flame_palette.hpp"
#include "format/flame_tree.hpp"
#include "format/format.hpp"
#include "format/xml_text.hpp"

#include "svg_frames.hpp"

using namespace waketrace;
using namespace waketrace::test;
using waketrace::format_internal::FlameNode;
using waketrace::format_internal::FlameRole;
using waketrace::format_internal::FlameStep;

namespace {

std::vector<std::string> names_of(const std::vector<FlameStep>& path) {
    std::vector<std::string> names;
    for (const FlameStep& step : path)
        names.push_back(step.name);
    return names;
}

// A folded line's frames, without its value.
std::vector<std::string> folded_fields(const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream stack(line.substr(0, line.rfind(' ')));
    for (std::string field; std::getline(stack, field, ';');)
        fields.push_back(field);
    return fields;
}

const FlameNode* child_named(const FlameNode& node, const std::string& name) {
    for (const FlameNode& child : node.children)
        if (child.step.name == name)
            return &child;
    return nullptr;
}

}  // namespace

TEST_CASE("flame path: a chain's frames are its folded line's, in order") {
    FormatOptions options;
    options.delimiter = GENERATE(false, true);
    options.stacks = GENERATE(StackKinds::both, StackKinds::kernel_only, StackKinds::user_only);
    const WakeChain one =
        GENERATE(futex_chain(), relay_chain(1), relay_chain(3), relay_chain(2, ChainEnd::depth_reached),
                 relay_chain(1, ChainEnd::waker_lost));
    CHECK(names_of(format_internal::flame_path(one, options)) ==
          folded_fields(format_folded(profile_of({one}), options)));
}

TEST_CASE("flame path: roles and levels follow the chain's parts") {
    // relay-3 <- relay-2 <- relay-1 <- [hardirq]; every frame names its thread.
    const auto path = format_internal::flame_path(relay_chain(3), {});
    auto step = [&](const std::string& name) {
        for (const FlameStep& s : path)
            if (s.name == name)
                return s;
        FAIL("no step " << name);
        return FlameStep{};
    };
    CHECK(path.front().name == "relay-3");
    CHECK(step("relay3_pipe_read").role == FlameRole::target);
    CHECK(step("relay3_receive").level == 0);
    CHECK(step("relay2_ksys_write").role == FlameRole::waker);
    CHECK(step("relay2_ksys_write").level == 1);
    CHECK(step("relay-2").level == 1);
    // Level 2: relay-2's blocked stacks, then relay-1's waking stacks.
    CHECK(step("relay2_pipe_read").level == 2);
    CHECK(step("relay2_pipe_read").waiting);
    CHECK(step("relay1_ksys_write").level == 2);
    CHECK_FALSE(step("relay1_ksys_write").waiting);
    CHECK(step("relay-1").role == FlameRole::waker);
    // Level 3: relay-1's sleep, then the interrupt that ended it.
    CHECK(step("do_nanosleep").level == 3);
    CHECK(step("do_nanosleep").role == FlameRole::waker);
    CHECK(step("hrtimer_wakeup").role == FlameRole::interrupt);
    CHECK(step("[hardirq]").role == FlameRole::interrupt);
    CHECK(step("[hardirq]").level == 3);
    CHECK(path.back().name == "[hardirq]");
    size_t separators = 0;
    for (const FlameStep& s : path)
        separators += s.role == FlameRole::separator ? 1 : 0;
    CHECK(separators == 5);  // target | w1 | w1 blocked | w2 | w2 blocked | irq
}

TEST_CASE("flame path: a chain cut short ends in its reason") {
    const auto path = format_internal::flame_path(relay_chain(2, ChainEnd::depth_reached), {});
    CHECK(path.back().name == "[deeper wakers not traced]");
    CHECK(path.back().role == FlameRole::chain_end);
    CHECK(path[path.size() - 2].role == FlameRole::separator);
}

TEST_CASE("flame tree: paths merge by prefix and sum their values") {
    WakeChain a = futex_chain();
    WakeChain b = futex_chain();
    b.wakers[0] = task_waker("other", 43, stack({"other_signal"}), stack({"try_to_wake_up", "other_wake"}));
    a.total_ns = 3000;
    a.blocked_ns = 2000;
    a.runqueue_ns = 1000;
    b.total_ns = 1000;
    b.blocked_ns = 400;
    b.runqueue_ns = 600;
    b.count = 4;
    const FlameNode root = format_internal::build_flame_tree(profile_of({a, b}), {});
    CHECK(root.values.total_ns == 4000);
    CHECK(root.values.count == 5);
    REQUIRE(root.children.size() == 1);  // one target comm
    const FlameNode* node = &root.children[0];
    CHECK(node->step.name == "worker");
    CHECK(node->values.total_ns == 4000);
    CHECK(node->values.blocked_ns == 2400);
    CHECK(node->values.runqueue_ns == 1600);
    // Down the shared target stack to the separator: one child each.
    for (const char* name : {"worker_loop", "pthread_cond_wait", "__futex_wait", "futex_wait", "schedule",
                             "finish_task_switch", "--"}) {
        REQUIRE(node->children.size() == 1);
        node = &node->children[0];
        CHECK(node->step.name == name);
        CHECK(node->values.total_ns == 4000);
    }
    // Both wakers start in try_to_wake_up, and split after it.
    REQUIRE(node->children.size() == 1);
    const FlameNode& wake = node->children[0];
    CHECK(wake.step.name == "try_to_wake_up");
    REQUIRE(wake.children.size() == 2);
    CHECK(wake.children[0].step.name == "other_wake");  // sorted by name
    CHECK(wake.children[0].values.total_ns == 1000);
    CHECK(wake.children[1].step.name == "wake_up_q");
    CHECK(wake.children[1].values.total_ns == 3000);
}

TEST_CASE("flame tree: an interrupt's frames do not merge with a task's of the same name") {
    WakeChain by_task = futex_chain();
    by_task.wakers[0] = task_waker("timerd", 9, Stack{}, stack({"try_to_wake_up", "hrtimer_wakeup"}));
    WakeChain by_irq = futex_chain();
    by_irq.wakers[0] = context_waker(WakerContext::hardirq, stack({"try_to_wake_up", "hrtimer_wakeup"}));
    const FlameNode root = format_internal::build_flame_tree(profile_of({by_task, by_irq}), {});
    const FlameNode* node = child_named(root, "worker");
    while (node && node->step.name != "--")
        node = node->children.empty() ? nullptr : &node->children[0];
    REQUIRE(node);
    REQUIRE(node->children.size() == 2);
    CHECK(node->children[0].step.name == "try_to_wake_up");
    CHECK(node->children[1].step.name == "try_to_wake_up");
    CHECK(node->children[0].step.role != node->children[1].step.role);
}

namespace {

enum class Family { blue, aqua, green, yellow, purple, orange, grey, other };

// Which family a colour is in, by the relations between its channels alone.
Family family_of(format_internal::Rgb c) {
    const int r = c.red, g = c.green, b = c.blue;
    if (r == g && g == b)
        return Family::grey;
    if (r == g && b > r + 40)
        return Family::blue;
    if (g == b && g > r + 40)
        return Family::aqua;
    if (r == b && g > r + 40)
        return Family::green;
    if (r == g && r > b + 40)
        return Family::yellow;
    if (r == b && r > g + 40)
        return Family::purple;
    if (r > g && g > b && b == 0)
        return Family::orange;
    return Family::other;
}

FlameStep step_of(const std::string& name, FlameRole role, uint32_t level) {
    FlameStep step;
    step.name = name;
    step.role = role;
    step.level = level;
    return step;
}

}  // namespace

TEST_CASE("palette: one family per part, every name a shade of it") {
    const std::string name = GENERATE("schedule", "main", "[unknown]", "x", "a much longer C++ name<int>()");
    using format_internal::frame_colour;
    CHECK(family_of(frame_colour(step_of(name, FlameRole::target, 0))) == Family::blue);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::waker, 1))) == Family::aqua);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::waker, 2))) == Family::green);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::waker, 3))) == Family::yellow);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::waker, 4))) == Family::purple);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::waker, 5))) == Family::aqua);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::interrupt, 1))) == Family::orange);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::interrupt, 3))) == Family::orange);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::separator, 1))) == Family::grey);
    CHECK(family_of(frame_colour(step_of(name, FlameRole::chain_end, 2))) == Family::grey);
}

TEST_CASE("palette: shades differ between names, not between runs") {
    using format_internal::frame_colour;
    const auto a = frame_colour(step_of("pipe_read", FlameRole::target, 0));
    const auto b = frame_colour(step_of("futex_wait", FlameRole::target, 0));
    const auto again = frame_colour(step_of("pipe_read", FlameRole::target, 0));
    CHECK(format_internal::css_colour(a) == format_internal::css_colour(again));
    CHECK(format_internal::css_colour(a) != format_internal::css_colour(b));
    // Past the fourth level the hues come round again, darker.
    const auto first = frame_colour(step_of("f", FlameRole::waker, 1));
    const auto fifth = frame_colour(step_of("f", FlameRole::waker, 5));
    CHECK(fifth.green < first.green);
}

TEST_CASE("xml_escaped: markup characters, broken UTF-8 and forbidden characters") {
    using format_internal::xml_escaped;
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(xml_escaped("operator<<(std::ostream&, \"x\", 'y')") ==
          "operator&lt;&lt;(std::ostream&amp;, &quot;x&quot;, &apos;y&apos;)");
    CHECK(xml_escaped("a>b") == "a&gt;b");
    CHECK(xml_escaped("caf\xC3\xA9") == "caf\xC3\xA9");
    CHECK(xml_escaped("bad\xFF") == "bad" + fffd);
    CHECK(xml_escaped("bell\x07tab\tline\n") == "bell" + fffd + "tab\tline\n");
    CHECK(xml_escaped("x\xEF\xBF\xBEy\xEF\xBF\xBF") == "x" + fffd + "y" + fffd);
    CHECK(xml_escaped("") == "");
}
