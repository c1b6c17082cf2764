// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The flame graph's model: every chain as the path of its folded line, each
// step tagged with the part of the chain it belongs to (which decides its
// colour), and the paths merged into one tree by common prefix, as
// flamegraph.pl merges folded lines. The SVG writer only lays this out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/format.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::format_internal {

// The part of a chain a frame belongs to.
enum class FlameRole : uint8_t {
    all,        // the root: every chain
    target,     // the target's comm and the frames where it blocked
    waker,      // a waker level's frames (FlameStep::level says which)
    interrupt,  // the stacks and name of a waker that is an interrupt (hardirq, softirq, nmi)
    separator,  // "--" before each waker level's part
    delimiter,  // "-" between a stack's user and kernel frames
    chain_end,  // why the chain shows no deeper waker ("[waker's wait lost]")
};

// One frame of a chain's path, root first.
struct FlameStep {
    std::string name;
    FlameRole role = FlameRole::target;
    // 0: the target's part; i + 1: waker level i, the part after the
    // (i + 1)-th "--": wakers[i]'s waking stacks and name, preceded for i >= 1
    // by wakers[i - 1]'s blocked stacks (the wait wakers[i] ended).
    uint32_t level = 0;
    // A blocked stack of a waker (wakers[level - 2], level >= 2), not the
    // stacks it woke with.
    bool waiting = false;

    bool operator==(const FlameStep& other) const {
        return name == other.name && role == other.role && level == other.level && waiting == other.waiting;
    }
};

// The path of `chain`'s folded line (format_folded()), with the comm root,
// in the order flamegraph.pl stacks it: target comm, target user then
// kernel frames root first, "--", wakers[0]'s kernel then user frames leaf
// first, its name; for each deeper level "--", the blocked stacks of the
// level below, "--", the level's waking stacks and name; then, for a chain
// that is not complete, "--" and its end. Newlines in names become spaces.
std::vector<FlameStep> flame_path(const WakeChain& chain, const FormatOptions& options);

struct FlameValues {
    uint64_t total_ns = 0;
    uint64_t blocked_ns = 0;
    uint64_t runqueue_ns = 0;
    uint64_t count = 0;

    void add(const WakeChain& chain) {
        total_ns += chain.total_ns;
        blocked_ns += chain.blocked_ns;
        runqueue_ns += chain.runqueue_ns;
        count += chain.count;
    }
    uint64_t of(FlameMetric metric) const {
        switch (metric) {
        case FlameMetric::total: return total_ns;
        case FlameMetric::blocked: return blocked_ns;
        case FlameMetric::runqueue: return runqueue_ns;
        }
        return total_ns;
    }
};

struct FlameNode {
    FlameStep step;
    FlameValues values;               // summed over every chain whose path passes here
    std::vector<FlameNode> children;  // sorted by name (then role and level), like flamegraph.pl's input
};

// The merged tree of every chain's path under a root named "all". Two
// frames merge when their whole prefix and their own name, role and level
// match: a frame of an interrupt's stack never merges with the same frame
// of a task's, so each keeps its colour.
FlameNode build_flame_tree(const Profile& profile, const FormatOptions& options);

}  // namespace waketrace::format_internal
