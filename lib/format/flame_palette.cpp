// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/flame_palette.hpp"

#include <fmt/format.h>

namespace waketrace::format_internal {
namespace {

// A shade in [0, 1) from the name (FNV-1a), the same on every run.
double shade_of(std::string_view name) {
    uint32_t hash = 2166136261u;
    for (const char c : name) {
        hash ^= uint8_t(c);
        hash *= 16777619u;
    }
    return double(hash % 1000) / 1000.0;
}

uint8_t channel(int low, int span, double shade) { return uint8_t(low + int(span * shade)); }

Rgb scaled(Rgb colour, double factor) {
    return {uint8_t(colour.red * factor), uint8_t(colour.green * factor), uint8_t(colour.blue * factor)};
}

Rgb grey(uint8_t level) { return {level, level, level}; }

// The four waker hues, by level (1-based), cycling darker past the fourth.
Rgb waker_colour(uint32_t level, double shade) {
    const uint32_t index = level == 0 ? 0 : (level - 1) % 4;
    Rgb colour;
    switch (index) {
    case 0: colour = {channel(50, 60, shade), channel(165, 55, shade), channel(165, 55, shade)}; break;
    case 1: colour = {channel(50, 60, shade), channel(190, 55, shade), channel(50, 60, shade)}; break;
    case 2: colour = {channel(185, 50, shade), channel(185, 50, shade), channel(40, 40, shade)}; break;
    default: colour = {channel(185, 60, shade), channel(90, 50, shade), channel(185, 60, shade)}; break;
    }
    return level > 4 ? scaled(colour, 0.75) : colour;
}

}  // namespace

Rgb frame_colour(const FlameStep& step) {
    const double shade = shade_of(step.name);
    switch (step.role) {
    case FlameRole::all: return grey(215);
    case FlameRole::target: {
        const uint8_t other = channel(80, 60, shade);
        return {other, other, channel(205, 50, shade)};
    }
    case FlameRole::waker: return waker_colour(step.level, shade);
    case FlameRole::interrupt: return {channel(215, 40, shade), channel(110, 50, shade), 0};
    case FlameRole::separator: return grey(160);
    case FlameRole::delimiter: return grey(195);
    case FlameRole::chain_end: return grey(235);
    }
    return grey(0);
}

std::string css_colour(Rgb colour) {
    return fmt::format("rgb({},{},{})", colour.red, colour.green, colour.blue);
}

}  // namespace waketrace::format_internal
