// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Folded files read back, for comparing two profiles: the value is what
// follows the last space, the frames what precedes it (frames may hold
// spaces: "[unseen waker]", C++ templates), as flamegraph.pl splits them.
#include <charconv>

#include <fmt/format.h>

#include "format/format.hpp"
#include "format/stack_walk.hpp"

namespace waketrace {
namespace {

// Enough of a bad line to recognise it, as valid UTF-8 on one line.
std::string excerpt(std::string_view line) {
    constexpr size_t kShown = 60;
    const std::string shown = format_internal::one_line(thread_name(line.substr(0, kShown)));
    return line.size() > kShown ? shown + "..." : shown;
}

bool all_digits(std::string_view text) {
    for (const char c : text)
        if (c < '0' || c > '9')
            return false;
    return !text.empty();
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

FoldedStack parse_line(std::string_view line, size_t number) {
    const auto fail = [&](std::string_view why) {
        return FoldedSyntaxError(
            number, fmt::format("line {}: {} (expected \"frame;frame;... VALUE\"): \"{}\"", number, why,
                                excerpt(line)));
    };
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos)
        throw fail("no space before a value");
    const std::string_view frames = line.substr(0, space);
    const std::string_view value = line.substr(space + 1);
    if (!all_digits(value))
        throw fail("the value is not a whole number");
    if (blank(frames))
        throw fail("no frames before the value");
    FoldedStack stack;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), stack.value);
    if (ec != std::errc() || end != value.data() + value.size())
        throw fail("the value is too large");
    stack.frames = std::string(frames);
    return stack;
}

}  // namespace

std::vector<FoldedStack> parse_folded(std::string_view text) {
    std::vector<FoldedStack> stacks;
    size_t number = 0;
    while (!text.empty()) {
        ++number;
        const size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (blank(line))
            continue;
        stacks.push_back(parse_line(line, number));
    }
    return stacks;
}

}  // namespace waketrace
