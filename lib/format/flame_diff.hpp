// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The differential flame graph's model: the stacks of two folded profiles
// merged into one tree by common prefix, each frame holding what passes
// through it in either, and the colour of a change.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "format/flame_palette.hpp"
#include "format/format.hpp"

namespace waketrace::format_internal {

// Sums stop at UINT64_MAX instead of wrapping around: a file may hold any
// value, and a wrapped sum would draw a frame narrower than its children.
inline uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

struct DiffNode {
    std::string name;
    uint64_t before = 0;  // summed over every BEFORE stack passing here
    uint64_t after = 0;
    std::vector<DiffNode> children;  // sorted by name

    // AFTER - BEFORE, held within +-INT64_MAX (values are whatever a file said).
    int64_t delta() const {
        constexpr uint64_t kMax = uint64_t(INT64_MAX);
        return after >= before ? int64_t(std::min(after - before, kMax))
                               : -int64_t(std::min(before - after, kMax));
    }
};

// Every stack of both under a root named "all"; frames split at ';'.
DiffNode build_diff_tree(const std::vector<FoldedStack>& before, const std::vector<FoldedStack>& after);

// The largest |delta()| of any frame below the root (0 for none): the
// change drawn at full strength.
uint64_t largest_change(const DiffNode& root);

// Red (r = 255 > g = b) for a frame that grew, blue (b = 255 > r = g) for one
// that shrank, paler as |delta| falls below `largest`; grey (r = g = b) when
// unchanged.
Rgb diff_colour(int64_t delta, uint64_t largest);

// Stacks of BEFORE whose frames AFTER has no value for (the stacks a graph
// of AFTER's widths cannot show), counted once per distinct frames, and
// their BEFORE value.
struct VanishedStacks {
    uint64_t stacks = 0;
    uint64_t value = 0;
};
VanishedStacks vanished_stacks(const std::vector<FoldedStack>& before, const std::vector<FoldedStack>& after);

}  // namespace waketrace::format_internal
