// SPDX-License-Identifier: LGPL-2.1-or-later
//
// offcputime's layouts: the target's stacks alone, since an offcpu profile
// has no wakers. Text reads from where the thread went to sleep outwards;
// folded from its root to where it slept, like the target half of
// offwaketime -f.
#include <iterator>

#include <fmt/format.h>

#include "format/classic_layouts.hpp"
#include "format/stack_walk.hpp"

namespace waketrace::format_internal {

std::string offcputime_text(const Profile& profile, const FormatOptions& options) {
    std::string out;
    for (const WakeChain& chain : profile.chains) {
        walk_stacks(options, chain.user_stack, chain.kernel_stack, PartOrder::kernel_then_user,
                    FrameOrder::leaf_first, [&](std::string_view item) {
                        // offcputime -d writes "--" between kernel and user frames.
                        const std::string_view shown = item == part_delimiter ? chain_separator : item;
                        fmt::format_to(std::back_inserter(out), "    {}\n", one_line(shown));
                    });
        fmt::format_to(std::back_inserter(out), "    {:<16} {} ({})\n", "-",
                       task_label(chain.target, options), chain.target.tid);
        fmt::format_to(std::back_inserter(out), "        {}\n", total_us(chain));
        if (options.histograms)
            out += format_chain_histograms(chain, "        ");
        out += '\n';
    }
    return out;
}

std::string offcputime_folded(const Profile& profile, const FormatOptions& options) {
    std::string out;
    for (const WakeChain& chain : profile.chains) {
        std::string line;
        auto append = [&](std::string_view item) { append_folded_field(line, item); };
        append(task_label(chain.target, options));
        walk_stacks(options, chain.user_stack, chain.kernel_stack, PartOrder::user_then_kernel,
                    FrameOrder::root_first, append);
        fmt::format_to(std::back_inserter(out), "{} {}\n", line, total_us(chain));
    }
    return out;
}

}  // namespace waketrace::format_internal
