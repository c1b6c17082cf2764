// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Reads back the frames of a flame graph SVG (format_flamegraph_svg), so
// tests can check what a browser would draw: each frame's name, depth,
// rectangle, colour, label and data attributes.
#pragma once

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "builders.hpp"

namespace waketrace::test {

struct SvgFrame {
    uint32_t depth = 0;
    uint64_t count = 0;
    uint64_t start[3] = {};  // total, blocked, runqueue: "start value" in ns
    uint64_t value[3] = {};
    bool hidden = false;
    std::string title;  // as written (escaped), every line
    std::string name;   // the title's first line, escaped as written
    double x = 0;
    double y = 0;
    double width = 0;
    int red = 0;
    int green = 0;
    int blue = 0;
    std::string label;  // escaped as written
};

inline std::vector<SvgFrame> svg_frames(const std::string& svg) {
    static const std::regex frame(
        R"re(<g data-depth="(\d+)" data-count="(\d+)" data-total="(\d+) (\d+)" data-blocked="(\d+) (\d+)" )re"
        R"re(data-runqueue="(\d+) (\d+)"( class="hide")?><title>([^<]*)</title>)re"
        R"re(<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="[\d.]+" rx="2" ry="2" )re"
        R"re(fill="rgb\((\d+),(\d+),(\d+)\)"/><text x="[-\d.]+" y="[-\d.]+">([^<]*)</text></g>)re");
    std::vector<SvgFrame> frames;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), frame); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        SvgFrame f;
        f.depth = uint32_t(std::stoul(m[1]));
        f.count = std::stoull(m[2]);
        for (int i = 0; i < 3; ++i) {
            f.start[i] = std::stoull(m[3 + 2 * i]);
            f.value[i] = std::stoull(m[4 + 2 * i]);
        }
        f.hidden = m[9].matched;
        f.title = m[10];
        f.name = f.title.substr(0, f.title.find('\n'));
        f.x = std::stod(m[11]);
        f.y = std::stod(m[12]);
        f.width = std::stod(m[13]);
        f.red = std::stoi(m[14]);
        f.green = std::stoi(m[15]);
        f.blue = std::stoi(m[16]);
        f.label = m[17];
        frames.push_back(f);
    }
    return frames;
}

// The frames named `name`.
inline std::vector<SvgFrame> named_frames(const std::vector<SvgFrame>& frames, const std::string& name) {
    std::vector<SvgFrame> found;
    for (const SvgFrame& f : frames)
        if (f.name == name)
            found.push_back(f);
    return found;
}

}  // namespace waketrace::test
