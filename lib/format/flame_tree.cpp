// SPDX-License-Identifier: LGPL-2.1-or-later
#include "format/flame_tree.hpp"

#include <algorithm>
#include <tuple>

#include "format/stack_walk.hpp"

namespace waketrace::format_internal {
namespace {

bool is_interrupt(const Waker& waker) {
    return waker.context == WakerContext::hardirq || waker.context == WakerContext::softirq ||
           waker.context == WakerContext::nmi;
}

// Appends the steps of one thread's stacks (and the "-" delimiter, which
// walk_stacks emits between the parts) in the given role.
class PathBuilder {
public:
    explicit PathBuilder(const FormatOptions& options) : options_(options) {}

    void add(std::string_view name, FlameRole role) {
        FlameStep step;
        step.name = one_line(name);
        step.role = role;
        step.level = level_;
        step.waiting = waiting_;
        path_.push_back(std::move(step));
    }

    void add_stacks(const Stack& user, const Stack& kernel, PartOrder parts, FrameOrder frames,
                    FlameRole role) {
        walk_stacks(options_, user, kernel, parts, frames, [&](std::string_view item) {
            add(item, item == part_delimiter ? FlameRole::delimiter : role);
        });
    }

    // A "--" that opens the next level's part.
    void open_level(bool waiting) {
        ++level_;
        waiting_ = false;
        add(chain_separator, FlameRole::separator);
        waiting_ = waiting;
    }

    // The "--" between a level's blocked stacks and its waking stacks.
    void end_waiting() {
        waiting_ = false;
        add(chain_separator, FlameRole::separator);
    }

    std::vector<FlameStep> take() { return std::move(path_); }

private:
    const FormatOptions& options_;
    std::vector<FlameStep> path_;
    uint32_t level_ = 0;
    bool waiting_ = false;
};

void add_waker(PathBuilder& path, const Waker& waker, const FormatOptions& options) {
    const FlameRole role = is_interrupt(waker) ? FlameRole::interrupt : FlameRole::waker;
    path.add_stacks(waker.user_stack, waker.kernel_stack, PartOrder::kernel_then_user, FrameOrder::leaf_first,
                    role);
    path.add(waker_label(waker, options), role);
}

bool step_less(const FlameStep& a, const FlameStep& b) {
    return std::tie(a.name, a.role, a.level, a.waiting) < std::tie(b.name, b.role, b.level, b.waiting);
}

FlameNode& child_for(FlameNode& parent, const FlameStep& step) {
    for (FlameNode& child : parent.children)
        if (child.step == step)
            return child;
    parent.children.push_back(FlameNode{step, {}, {}});
    return parent.children.back();
}

void sort_children(FlameNode& node) {
    std::sort(node.children.begin(), node.children.end(),
              [](const FlameNode& a, const FlameNode& b) { return step_less(a.step, b.step); });
    for (FlameNode& child : node.children)
        sort_children(child);
}

}  // namespace

std::vector<FlameStep> flame_path(const WakeChain& chain, const FormatOptions& options) {
    PathBuilder path(options);
    path.add(task_label(chain.target, options), FlameRole::target);
    path.add_stacks(chain.user_stack, chain.kernel_stack, PartOrder::user_then_kernel, FrameOrder::root_first,
                    FlameRole::target);
    if (chain.wakers.empty())  // an offcpu profile: the target is all there is
        return path.take();
    path.open_level(false);
    add_waker(path, first_waker(chain), options);
    for (size_t level = 1; level < chain.wakers.size(); ++level) {
        const Waker& woken = chain.wakers[level - 1];
        path.open_level(true);
        path.add_stacks(woken.blocked_user_stack, woken.blocked_kernel_stack, PartOrder::kernel_then_user,
                        FrameOrder::leaf_first, FlameRole::waker);
        path.end_waiting();
        add_waker(path, chain.wakers[level], options);
    }
    if (chain.end != ChainEnd::complete) {
        path.open_level(false);
        path.add(chain_end_marker(chain.end), FlameRole::chain_end);
    }
    return path.take();
}

FlameNode build_flame_tree(const Profile& profile, const FormatOptions& options) {
    FlameNode root;
    root.step.name = "all";
    root.step.role = FlameRole::all;
    for (const WakeChain& chain : profile.chains) {
        root.values.add(chain);
        FlameNode* node = &root;
        for (const FlameStep& step : flame_path(chain, options)) {
            node = &child_for(*node, step);
            node->values.add(chain);
        }
    }
    sort_children(root);
    return root;
}

}  // namespace waketrace::format_internal
