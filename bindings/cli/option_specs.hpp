// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every option the command line takes, in --help's order: its own (targets,
// stack kinds, output, --dwarf) and, between them, one per row of
// include/waketrace/options.hpp under the row's spelling.
#pragma once

#include <string_view>
#include <vector>

#include <waketrace/options.hpp>

namespace waketrace::cli {

// Options that pick the same setting in different ways; at most one of each
// group may be given (offwaketime's argparse groups).
enum class Group { none, targets, stacks, task_names };

// What an option does: a table row sets its Config member (set_option);
// the others are the command line's own.
enum class Action {
    set_option,
    help,
    pid,
    tid,
    cgroup,
    user_threads_only,
    kernel_threads_only,
    user_stacks_only,
    kernel_stacks_only,
    delimited,
    folded,
    per_process,
    per_thread,
    thread_totals,
    dwarf,
    output,
    svg,
    diff,
    pprof,
    perfetto,
    trigger_dir,
    trigger_window,
    verbose,
};

struct OptionSpec {
    char short_name = '\0';  // '\0': long form only
    std::string_view long_name;
    std::string_view value_name;  // empty: takes no value
    Group group = Group::none;
    Action action = Action::set_option;
    const options::Option* option = nullptr;  // set_option: the row
    std::string_view help;                    // the command line's own options only

    bool takes_value() const { return !value_name.empty(); }
};

const std::vector<OptionSpec>& option_specs();
const OptionSpec* find_short(char name);
const OptionSpec* find_long(std::string_view name);

// --dwarf's user stack copy (perf's default, enough for most call chains),
// also what --dwarf-stack-size and --dwarf-ring-size imply.
constexpr uint32_t kDwarfDefaultStackBytes = 8192;
// Rows whose option implies --dwarf.
bool implies_dwarf(const options::Option& option);

}  // namespace waketrace::cli
