// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/flame_diff.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string_view>

#include "format/stack_walk.hpp"

namespace waketrace::format_internal {
namespace {

DiffNode& child_named(DiffNode& parent, std::string_view name) {
    for (DiffNode& child : parent.children)
        if (child.name == name)
            return child;
    parent.children.push_back(DiffNode{std::string(name), 0, 0, {}});
    return parent.children.back();
}

// Adds `value` to every frame of `frames` (and the root), in BEFORE's or AFTER's column.
void add_stack(DiffNode& root, std::string_view frames, uint64_t value, uint64_t DiffNode::*column) {
    root.*column = saturating_add(root.*column, value);
    DiffNode* node = &root;
    for (;;) {
        const size_t semicolon = frames.find(';');
        node = &child_named(*node, one_line(frames.substr(0, semicolon)));
        node->*column = saturating_add(node->*column, value);
        if (semicolon == std::string_view::npos)
            return;
        frames.remove_prefix(semicolon + 1);
    }
}

void sort_children(DiffNode& node) {
    std::sort(node.children.begin(), node.children.end(),
              [](const DiffNode& a, const DiffNode& b) { return a.name < b.name; });
    for (DiffNode& child : node.children)
        sort_children(child);
}

void find_largest(const DiffNode& node, uint64_t& largest) {
    for (const DiffNode& child : node.children) {
        largest = std::max(largest, uint64_t(std::llabs(child.delta())));
        find_largest(child, largest);
    }
}

std::map<std::string_view, uint64_t> summed(const std::vector<FoldedStack>& stacks) {
    std::map<std::string_view, uint64_t> sums;
    for (const FoldedStack& stack : stacks)
        sums[stack.frames] = saturating_add(sums[stack.frames], stack.value);
    return sums;
}

}  // namespace

DiffNode build_diff_tree(const std::vector<FoldedStack>& before, const std::vector<FoldedStack>& after) {
    DiffNode root{"all", 0, 0, {}};
    for (const FoldedStack& stack : before)
        add_stack(root, stack.frames, stack.value, &DiffNode::before);
    for (const FoldedStack& stack : after)
        add_stack(root, stack.frames, stack.value, &DiffNode::after);
    sort_children(root);
    return root;
}

uint64_t largest_change(const DiffNode& root) {
    uint64_t largest = 0;
    find_largest(root, largest);
    return largest;
}

Rgb diff_colour(int64_t delta, uint64_t largest) {
    if (delta == 0 || largest == 0)
        return {215, 215, 215};
    const double strength = std::min(1.0, double(std::llabs(delta)) / double(largest));
    // Even the smallest change keeps a tint (210 of 255) that tells it from grey.
    const auto fade = uint8_t(210.0 * (1.0 - strength));
    return delta > 0 ? Rgb{255, fade, fade} : Rgb{fade, fade, 255};
}

VanishedStacks vanished_stacks(const std::vector<FoldedStack>& before,
                               const std::vector<FoldedStack>& after) {
    const std::map<std::string_view, uint64_t> then = summed(before);
    const std::map<std::string_view, uint64_t> now = summed(after);
    VanishedStacks vanished;
    for (const auto& [frames, value] : then) {
        const auto found = now.find(frames);
        if (value > 0 && (found == now.end() || found->second == 0)) {
            ++vanished.stacks;
            vanished.value = saturating_add(vanished.value, value);
        }
    }
    return vanished;
}

}  // namespace waketrace::format_internal
