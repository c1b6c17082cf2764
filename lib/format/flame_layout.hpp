// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What every flame graph SVG the library writes shares with the others: its
// geometry (which the script reads back from the root's attributes) and
// how numbers and labels are written, so a profile's graph and a
// differential one look and behave alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace waketrace::format_internal {

inline constexpr double kFlamePad = 10;          // left and right margin
inline constexpr double kFlameFrameHeight = 16;  // one stack level, with a pixel between levels
inline constexpr double kFlameFontSize = 12;
// The average advance of a character in Verdana (or DejaVu Sans) at
// kFlameFontSize: labels are cut to what fits without measuring text.
inline constexpr double kFlameCharWidth = kFlameFontSize * 0.59;
inline constexpr double kFlameTop = 84;     // title, subtitle, and the line of the switch and legend
inline constexpr double kFlameBottom = 34;  // the line showing the frame under the mouse
// Frames narrower than this (pixels) under every metric are left out, as
// flamegraph.pl leaves out frames under --minwidth.
inline constexpr double kFlameMinWidth = 0.1;

// 1234567 -> "1,234,567"
std::string grouped(uint64_t number);

// Nanoseconds as whole microseconds, grouped: "1,235 µs".
std::string micros(uint64_t ns);

// The label a frame of `width` pixels shows, cut as the script cuts it
// (whole characters, "..", nothing below three).
std::string fitted_label(const std::string& name, double width);

// The end of every flame graph: `empty_message` centred when there is
// nothing to draw (empty: none), the two lines the script writes into (the
// frame under the mouse, the search's share), the script, </svg>.
std::string flame_footer(double width, double height, std::string_view empty_message);

}  // namespace waketrace::format_internal
