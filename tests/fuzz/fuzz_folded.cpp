// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The folded-file reader (`waketrace --diff`'s input) and the differential
// flame graph drawn from what it reads. Byte 0 picks where the rest is cut
// into BEFORE and AFTER. Checked: a refused text names a line it has, with
// "line N: " first; an accepted one gives stacks that write back as folded
// lines and read again the same; the graph of two accepted texts is one
// well-formed document in valid UTF-8 whatever the names held.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "format/format.hpp"

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

size_t line_count(std::string_view text) {
    size_t lines = 0;
    for (size_t start = 0; start < text.size(); ++lines) {
        const size_t newline = text.find('\n', start);
        start = newline == std::string_view::npos ? text.size() : newline + 1;
    }
    return lines;
}

// The stacks of `text`, or nothing when it is refused (checked either way).
bool read_side(std::string_view text, std::vector<waketrace::FoldedStack>& stacks) {
    try {
        stacks = waketrace::parse_folded(text);
    } catch (const waketrace::FoldedSyntaxError& e) {
        require(e.line >= 1 && e.line <= line_count(text));
        require(std::string_view(e.what()).substr(0, 5 + std::to_string(e.line).size() + 2) ==
                "line " + std::to_string(e.line) + ": ");
        return false;
    }
    std::string written;
    for (const waketrace::FoldedStack& stack : stacks) {
        require(stack.frames.find('\n') == std::string::npos);
        require(stack.frames.find_first_not_of(" \t") != std::string::npos);
        written += stack.frames + " " + std::to_string(stack.value) + "\n";
    }
    const std::vector<waketrace::FoldedStack> again = waketrace::parse_folded(written);
    require(again.size() == stacks.size());
    for (size_t i = 0; i < again.size(); ++i)
        require(again[i].frames == stacks[i].frames && again[i].value == stacks[i].value);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const size_t cut = rest.size() * data[0] / 255;
    std::vector<waketrace::FoldedStack> before;
    std::vector<waketrace::FoldedStack> after;
    const bool read_before = read_side(rest.substr(0, cut), before);
    const bool read_after = read_side(rest.substr(cut), after);
    if (!read_before || !read_after)
        return 0;
    const std::string svg = waketrace::format_diff_flamegraph_svg(before, after, {});
    require(svg.rfind("<?xml ", 0) == 0);
    require(svg.size() >= 7 && svg.compare(svg.size() - 7, 7, "</svg>\n") == 0);
    require(waketrace::thread_name(svg) == svg);  // valid UTF-8 throughout
    return 0;
}
