// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The flame graph's colours: a family per part of a chain, as flamegraph.pl
// --color=chain draws off-CPU frames blue and wakers aqua, with a shade in
// the family picked by a hash of the frame's name, so one function keeps
// one colour across graphs and runs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "format/flame_tree.hpp"

namespace waketrace::format_internal {

struct Rgb {
    uint8_t red = 0;
    uint8_t green = 0;
    uint8_t blue = 0;
};

// Families: target blue (r = g < b); waker level 1 aqua (r < g = b), level
// 2 green (r = b < g), 3 yellow (r = g > b), 4 purple (r = b > g), deeper
// levels the same four again, darker; interrupt wakers orange (r > g > b =
// 0); "--", "-", the chain's end and the root greys (r = g = b).
Rgb frame_colour(const FlameStep& step);

// The colour a search paints matching frames: in no family above.
inline constexpr std::string_view search_highlight = "rgb(230,0,120)";

// "rgb(r,g,b)", as SVG's fill takes it.
std::string css_colour(Rgb colour);

}  // namespace waketrace::format_internal
