// SPDX-License-Identifier: LGPL-2.1-or-later
#include "option_specs.hpp"

#include <algorithm>

namespace waketrace::cli {
namespace {

OptionSpec own(char short_name, std::string_view long_name, std::string_view value_name, Group group,
               Action action, std::string_view help) {
    OptionSpec spec;
    spec.short_name = short_name;
    spec.long_name = long_name;
    spec.value_name = value_name;
    spec.group = group;
    spec.action = action;
    spec.help = help;
    return spec;
}

OptionSpec from_row(const options::Option& option) {
    OptionSpec spec;
    spec.short_name = option.cli_short;
    spec.long_name = option.cli_long;
    spec.value_name = option.value_name;
    spec.option = &option;
    return spec;
}

std::vector<OptionSpec> make_specs() {
    std::vector<OptionSpec> specs = {
        own('h', "help", "", Group::none, Action::help, "show this help and exit"),
        own('p', "pid", "PID[,PID..]", Group::targets, Action::pid, "trace only these processes"),
        own('t', "tid", "TID[,TID..]", Group::targets, Action::tid, "trace only these threads"),
        own('\0', "cgroup", "PATH", Group::none, Action::cgroup,
            "trace only threads in this cgroup v2 directory or below (repeat for up to 8)"),
        own('u', "user-threads-only", "", Group::targets, Action::user_threads_only,
            "trace only user threads"),
        own('k', "kernel-threads-only", "", Group::targets, Action::kernel_threads_only,
            "trace only kernel threads"),
        own('U', "user-stacks-only", "", Group::stacks, Action::user_stacks_only, "show only user stacks"),
        own('K', "kernel-stacks-only", "", Group::stacks, Action::kernel_stacks_only,
            "show only kernel stacks"),
        own('d', "delimited", "", Group::none, Action::delimited,
            "put \"-\" between the user and kernel part of a stack"),
        own('f', "folded", "", Group::none, Action::folded,
            "one line per chain, for flamegraph.pl --color=chain"),
        own('\0', "per-process", "", Group::task_names, Action::per_process,
            "name each target and waker thread comm-PID, so processes sharing a name stay apart (in the "
            "report and the flame graph)"),
        own('\0', "per-thread", "", Group::task_names, Action::per_thread,
            "name each target and waker thread comm-PID/TID, so every thread stays apart"),
        own('\0', "thread-totals", "", Group::none, Action::thread_totals,
            "after the chains, a table of each traced thread's off-CPU, blocked and runqueue time and "
            "count, largest first (not with -f)"),
    };
    const OptionSpec dwarf = own('\0', "dwarf", "", Group::none, Action::dwarf,
                                 "unwind user stacks with the binaries' unwind tables instead of frame "
                                 "pointers: names the callers of code built without them (libc); "
                                 "costs more");
    for (const options::Option& option : options::table) {
        if (option.name == "dwarf_stack_bytes")
            specs.push_back(dwarf);
        specs.push_back(from_row(option));
    }
    specs.push_back(own('o', "output", "FILE", Group::none, Action::output,
                        "write the report to FILE instead of standard output"));
    specs.push_back(own('\0', "svg", "FILE", Group::none, Action::svg,
                        "also write an interactive flame graph of the chains to FILE (SVG)"));
    specs.push_back(own('\0', "diff", "BEFORE AFTER", Group::none, Action::diff,
                        "trace nothing: compare two folded files (-f output) into a differential flame "
                        "graph written to --svg's FILE, widths by AFTER, red where time grew, blue where "
                        "it shrank"));
    specs.push_back(
        own('\0', "pprof", "FILE", Group::none, Action::pprof,
            "also write the chains to FILE as a pprof profile (gzipped profile.proto), for go tool "
            "pprof, Pyroscope or Parca"));
    specs.push_back(own('\0', "perfetto", "FILE", Group::none, Action::perfetto,
                        "also write every off-CPU period to FILE as a Perfetto trace (implies --events, "
                        "without printing them): a timeline per thread with its blocked and runnable "
                        "slices, an arrow from each waker, for ui.perfetto.dev"));
    specs.push_back(own('\0', "trigger-window", "SECONDS", Group::none, Action::trigger_window,
                        "with --trigger-blocked: the seconds of events kept and written with each stall "
                        "(default 5)"));
    specs.push_back(own('\0', "trigger-dir", "DIR", Group::none, Action::trigger_dir,
                        "with --trigger-blocked: where each stall's waketrace-stall-N.txt and .pftrace "
                        "go (default: the current directory)"));
    specs.push_back(
        own('v', "verbose", "", Group::none, Action::verbose, "log what the profiler and the BPF loader do"));
    return specs;
}

}  // namespace

const std::vector<OptionSpec>& option_specs() {
    static const std::vector<OptionSpec> specs = make_specs();
    return specs;
}

const OptionSpec* find_short(char name) {
    const auto& specs = option_specs();
    auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& spec) {
        return spec.short_name != '\0' && spec.short_name == name;
    });
    return it == specs.end() ? nullptr : &*it;
}

const OptionSpec* find_long(std::string_view name) {
    const auto& specs = option_specs();
    auto it = std::find_if(specs.begin(), specs.end(),
                           [&](const OptionSpec& spec) { return spec.long_name == name; });
    return it == specs.end() ? nullptr : &*it;
}

bool implies_dwarf(const options::Option& option) {
    return option.name == "dwarf_stack_bytes" || option.name == "dwarf_ring_bytes";
}

}  // namespace waketrace::cli
