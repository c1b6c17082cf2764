// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The waketrace command line, offwaketime's interface plus a command to run:
//
//     waketrace [-h] [-p PID[,PID..] | -t TID[,TID..] | -u | -k] [-U | -K] [-d] [-f]
//               [OPTIONS of include/waketrace/options.hpp, and --dwarf]
//               [--per-process | --per-thread] [--thread-totals]
//               [-o FILE] [--svg FILE] [--pprof FILE] [--perfetto FILE] [--trigger-window SECONDS]
//               [--trigger-dir DIR] [-v] [duration] [-- COMMAND [ARGS...]]
//     waketrace --diff BEFORE AFTER --svg FILE
//
// (usage_text() has them all.)
// Parsing is pure (no I/O, no lookups of pids), so it is tested on its own.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <waketrace/config.hpp>
#include <waketrace/options.hpp>

#include "format/format.hpp"

namespace waketrace::cli {

struct Options {
    waketrace::Config config;                // filters, stack kinds, block-time bounds, map size
    bool folded = false;                     // -f: one line per chain
    bool delimiter = false;                  // -d: "-" between user and kernel stacks
    TaskNames task_names = TaskNames::comm;  // --per-process / --per-thread
    bool thread_totals = false;              // --thread-totals: a table of Profile::threads too
    std::optional<double> duration_s;        // positional duration; nullopt: until Ctrl-C / COMMAND exits
    std::string output_path;                 // -o; empty: standard output
    std::string svg_path;                    // --svg: a flame graph too; empty: none
    std::string pprof_path;                  // --pprof: a pprof profile too; empty: none
    std::string perfetto_path;               // --perfetto: a Perfetto trace of the events; empty: none
    std::string trigger_dir = ".";           // --trigger-dir: where --trigger-blocked writes
    double trigger_window_s = 5;             // --trigger-window: the seconds of events it keeps
    std::vector<std::string> command;        // after "--"; empty: trace without running anything
    // --diff BEFORE AFTER: compare two folded files into --svg's file, trace nothing.
    std::string diff_before;
    std::string diff_after;
    bool verbose = false;    // -v
    bool show_help = false;  // -h: print usage_text() and exit 0, nothing else is set
};

// Bad command lines; what() is one line naming the option and the problem.
struct UsageError : std::runtime_error {
    using runtime_error::runtime_error;
};

// argv[0] is the program name and is skipped. Throws UsageError.
Options parse_options(int argc, const char* const* argv);

// The option that sets a waketrace::Config member ("max_chains" ->
// "--max-chains", "log" -> "-v"), for messages that name one; "" if none does.
std::string option_for(std::string_view config_member);

// A library message, which names options by their Config members, with
// each one the command line sets named as its option instead
// ("stack_sample_percent must be 1 to 100" -> "--sample must be 1 to 100").
std::string in_cli_terms(std::string_view message);

// The --help text, ending in '\n'.
std::string usage_text(std::string_view program);

// A table option's help as --help and the manual print it: the row's help,
// then its bounds and default, then what it implies.
std::string option_help(const options::Option& option);

}  // namespace waketrace::cli
