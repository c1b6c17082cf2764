// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "option_specs.hpp"
#include "options.hpp"

using waketrace::StackKinds;
using waketrace::ThreadKind;
using waketrace::cli::Options;
using waketrace::cli::UsageError;

namespace {

// Parses the arguments after the program name.
Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "waketrace");
    std::vector<const char*> argv;
    for (const std::string& arg : args)
        argv.push_back(arg.c_str());
    return waketrace::cli::parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const UsageError& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("no arguments: offwaketime's defaults") {
    const Options options = parse({});
    CHECK(options.config.pids.empty());
    CHECK(options.config.tids.empty());
    CHECK(options.config.threads == ThreadKind::all);
    CHECK(options.config.stacks == StackKinds::both);
    CHECK(options.config.min_block_us == 1);
    CHECK(options.config.max_block_us == UINT64_MAX);
    CHECK(options.config.stack_storage_size == 4096);
    CHECK_FALSE(options.config.state_mask);
    CHECK_FALSE(options.folded);
    CHECK_FALSE(options.delimiter);
    CHECK_FALSE(options.verbose);
    CHECK_FALSE(options.show_help);
    CHECK_FALSE(options.duration_s);
    CHECK(options.output_path.empty());
    CHECK(options.command.empty());
    CHECK(waketrace::cli::parse_options(0, nullptr).command.empty());
}

TEST_CASE("pids and tids: separate, joined, --name=value, lists, repeats") {
    using Ids = std::vector<uint32_t>;
    CHECK(parse({"-p", "123"}).config.pids == Ids{123});
    CHECK(parse({"-p123"}).config.pids == Ids{123});
    CHECK(parse({"--pid=123"}).config.pids == Ids{123});
    CHECK(parse({"--pid", "1,2,3"}).config.pids == Ids{1, 2, 3});
    CHECK(parse({"-p", "1", "-p", "2"}).config.pids == Ids{1, 2});
    CHECK(parse({"-t", "7,8"}).config.tids == Ids{7, 8});
    CHECK(parse({"-t9"}).config.tids == Ids{9});
    CHECK(parse({"--tid=2147483647"}).config.tids == Ids{2147483647});
}

TEST_CASE("bad pid and tid lists") {
    for (const char* bad : {"0", "-1", "abc", "12x", "1,,2", "1,", ",1", " 1", "+1", "", "2147483648",
                            "99999999999999999999999"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({"-p", bad}), UsageError);
        CHECK_THROWS_AS(parse({std::string("--tid=") + bad}), UsageError);
    }
    CHECK(error_of({"-p", "12x"}) == "invalid -p value '12x': expected an integer from 1 to 2147483647");
    CHECK(error_of({"--pid"}) == "option --pid needs a value");
    CHECK(error_of({"-p"}) == "option -p needs a value");
}

TEST_CASE("thread and stack kinds, flags, long forms") {
    CHECK(parse({"-u"}).config.threads == ThreadKind::user_only);
    CHECK(parse({"--user-threads-only"}).config.threads == ThreadKind::user_only);
    CHECK(parse({"-k"}).config.threads == ThreadKind::kernel_only);
    CHECK(parse({"--kernel-threads-only"}).config.threads == ThreadKind::kernel_only);
    CHECK(parse({"-U"}).config.stacks == StackKinds::user_only);
    CHECK(parse({"--user-stacks-only"}).config.stacks == StackKinds::user_only);
    CHECK(parse({"-K"}).config.stacks == StackKinds::kernel_only);
    CHECK(parse({"--kernel-stacks-only"}).config.stacks == StackKinds::kernel_only);
    CHECK(parse({"-d"}).delimiter);
    CHECK(parse({"--delimited"}).delimiter);
    CHECK(parse({"-f"}).folded);
    CHECK(parse({"--folded"}).folded);
    CHECK(parse({"-v"}).verbose);
    CHECK(parse({"--verbose"}).verbose);
    CHECK(error_of({"--folded=yes"}) == "option --folded takes no value");
}

TEST_CASE("short flags cluster, and a value may end the cluster") {
    const Options options = parse({"-fdKp42"});
    CHECK(options.folded);
    CHECK(options.delimiter);
    CHECK(options.config.stacks == StackKinds::kernel_only);
    CHECK(options.config.pids == std::vector<uint32_t>{42});
    CHECK(parse({"-fo", "out.txt"}).output_path == "out.txt");
}

TEST_CASE("target filters exclude each other") {
    CHECK(error_of({"-p", "1", "-t", "2"}) == "--pid cannot be combined with --tid");
    CHECK(error_of({"-u", "-k"}) == "--user-threads-only cannot be combined with --kernel-threads-only");
    CHECK_THROWS_AS(parse({"-p", "1", "-u"}), UsageError);
    CHECK_THROWS_AS(parse({"-p", "1", "-k"}), UsageError);
    CHECK_THROWS_AS(parse({"-t", "1", "-u"}), UsageError);
    CHECK_THROWS_AS(parse({"-t", "1", "-k"}), UsageError);
    CHECK_THROWS_AS(parse({"-k", "--pid=3"}), UsageError);
    CHECK(parse({"-u", "-u"}).config.threads == ThreadKind::user_only);
}

TEST_CASE("stack filters exclude each other") {
    CHECK(error_of({"-U", "-K"}) == "--user-stacks-only cannot be combined with --kernel-stacks-only");
    CHECK_THROWS_AS(parse({"-KU"}), UsageError);
    CHECK_NOTHROW(parse({"-U", "-u"}));
}

TEST_CASE("block-time bounds") {
    CHECK(parse({"-m", "1000"}).config.min_block_us == 1000);
    CHECK(parse({"--min-block-time=0"}).config.min_block_us == 0);
    CHECK(parse({"-M", "5000"}).config.max_block_us == 5000);
    CHECK(parse({"--max-block-time", "18446744073709551615"}).config.max_block_us == UINT64_MAX);
    const Options both = parse({"-m10", "-M10"});
    CHECK(both.config.min_block_us == 10);
    CHECK(both.config.max_block_us == 10);
    CHECK(error_of({"-m", "20", "-M", "10"}) == "--min-block-time (20) is larger than --max-block-time (10)");
    CHECK_THROWS_AS(parse({"-M", "0"}), UsageError);  // below the default minimum of 1
    for (const char* bad : {"-1", "1.5", "10us", "18446744073709551616", ""}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({"-m", bad}), UsageError);
        CHECK_THROWS_AS(parse({"-M", bad}), UsageError);
    }
}

TEST_CASE("stack storage size and state") {
    CHECK(parse({"--stack-storage-size", "1024"}).config.stack_storage_size == 1024);
    CHECK(parse({"--stack-storage-size=4294967295"}).config.stack_storage_size == 4294967295U);
    for (const char* bad : {"0", "-5", "4294967296", "1k"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({"--stack-storage-size", bad}), UsageError);
    }
    CHECK(parse({"--state", "2"}).config.state_mask == 2U);
    CHECK(parse({"--state=0"}).config.state_mask == 0U);
    CHECK_THROWS_AS(parse({"--state", "-1"}), UsageError);
    CHECK_THROWS_AS(parse({"--state", "0x2"}), UsageError);
    CHECK_THROWS_AS(parse({"--state"}), UsageError);
}

TEST_CASE("map capacities: --max-chains and --max-off-cpu-threads set Config's") {
    const Options defaults = parse({});
    CHECK(defaults.config.max_chains == waketrace::Config{}.max_chains);
    CHECK(defaults.config.max_off_cpu_threads == waketrace::Config{}.max_off_cpu_threads);
    CHECK(parse({"--max-chains", "65536"}).config.max_chains == 65536U);
    CHECK(parse({"--max-chains=4294967295"}).config.max_chains == 4294967295U);
    CHECK(parse({"--max-off-cpu-threads", "2"}).config.max_off_cpu_threads == 2U);
    CHECK(parse({"--max-off-cpu-threads=100000"}).config.max_off_cpu_threads == 100000U);
    for (const char* option : {"--max-chains", "--max-off-cpu-threads"}) {
        for (const char* bad : {"0", "-5", "4294967296", "1k", ""}) {
            INFO(option << " " << bad);
            CHECK(error_of({option, bad}).find(std::string("invalid ") + option + " value") == 0);
        }
        INFO(option);
        CHECK_THROWS_AS(parse({option}), UsageError);
    }
}

TEST_CASE("option_for names the option that sets a Config member") {
    CHECK(waketrace::cli::option_for("log") == "-v");
    CHECK(waketrace::cli::option_for("max_chains") == "--max-chains");
    CHECK(waketrace::cli::option_for("max_off_cpu_threads") == "--max-off-cpu-threads");
    CHECK(waketrace::cli::option_for("stack_storage_size") == "--stack-storage-size");
    CHECK(waketrace::cli::option_for("attach").empty());  // the command line does not offer it
    // Each option it names is one the parser takes.
    for (const char* member : {"max_chains", "max_off_cpu_threads", "stack_storage_size"}) {
        INFO(member);
        CHECK_NOTHROW(parse({waketrace::cli::option_for(member), "100"}));
    }
}

TEST_CASE("--dwarf and its stack copy size") {
    CHECK(parse({}).config.dwarf_stack_bytes == 0U);
    CHECK(parse({"--dwarf"}).config.dwarf_stack_bytes == 8192U);
    CHECK(parse({"--dwarf-stack-size", "4096"}).config.dwarf_stack_bytes == 4096U);
    CHECK(parse({"--dwarf-stack-size=2048", "--dwarf"}).config.dwarf_stack_bytes == 2048U);
    for (const char* bad : {"0", "512", "1500", "32768", "-1024", "4k"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({"--dwarf-stack-size", bad}), UsageError);
    }
}

TEST_CASE("--dwarf-ring-size: a power of two number of pages, implying --dwarf") {
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    CHECK(parse({"--dwarf"}).config.dwarf_ring_bytes == 0U);  // the library's default
    const Options sized = parse({"--dwarf-ring-size", std::to_string(64 * page).c_str()});
    CHECK(sized.config.dwarf_ring_bytes == 64 * page);
    CHECK(sized.config.dwarf_stack_bytes == 8192U);
    CHECK(parse({"--dwarf-stack-size=4096", "--dwarf-ring-size", std::to_string(page).c_str()})
              .config.dwarf_stack_bytes == 4096U);
    CHECK(parse({"--dwarf-ring-size=1073741824"}).config.dwarf_ring_bytes == 1073741824U);
    for (const std::string& bad :
         {std::string("0"), std::to_string(page / 2), std::to_string(3 * page), std::to_string(page + 1),
          std::string("2147483648"), std::string("-4096"), std::string("16M")}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse({"--dwarf-ring-size", bad.c_str()}),
                          Catch::Contains("invalid --dwarf-ring-size value '" + bad + "'"));
    }
}

TEST_CASE("stack sampling percentage") {
    CHECK(parse({}).config.stack_sample_percent == 100U);
    CHECK(parse({"--sample", "10"}).config.stack_sample_percent == 10U);
    CHECK(parse({"--sample=100"}).config.stack_sample_percent == 100U);
    for (const char* bad : {"0", "101", "-5", "10%", "0.5"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({"--sample", bad}), UsageError);
    }
}

TEST_CASE("output file") {
    CHECK(parse({"-o", "out.folded"}).output_path == "out.folded");
    CHECK(parse({"-oout"}).output_path == "out");
    CHECK(parse({"--output=report.txt"}).output_path == "report.txt");
    CHECK(error_of({"--output="}) == "option --output needs a file name");
    CHECK(error_of({"-o"}) == "option -o needs a value");
}

TEST_CASE("flame graph file: besides the report, never in its place") {
    CHECK(parse({}).svg_path.empty());
    const auto both = parse({"-f", "--svg", "chains.svg", "-o", "chains.folded"});
    CHECK(both.svg_path == "chains.svg");
    CHECK(both.output_path == "chains.folded");
    CHECK(both.folded);
    CHECK(parse({"--svg=out.svg"}).svg_path == "out.svg");
    CHECK(error_of({"--svg="}) == "option --svg needs a file name");
    CHECK(error_of({"--svg"}) == "option --svg needs a value");
    CHECK(error_of({"--svg", "same", "-o", "same"}) == "--svg and --output cannot name the same file");
}

TEST_CASE("--per-process and --per-thread name tasks, one or the other") {
    CHECK(parse({}).task_names == waketrace::TaskNames::comm);
    CHECK(parse({"--per-process", "-f"}).task_names == waketrace::TaskNames::per_process);
    CHECK(parse({"--per-thread"}).task_names == waketrace::TaskNames::per_thread);
    CHECK(parse({"--per-thread", "--per-thread"}).task_names == waketrace::TaskNames::per_thread);
    CHECK(error_of({"--per-process", "--per-thread"}) ==
          "--per-process cannot be combined with --per-thread");
}

TEST_CASE("--thread-totals: with the text report, not with folded lines") {
    CHECK_FALSE(parse({}).thread_totals);
    CHECK(parse({"--thread-totals", "5"}).thread_totals);
    CHECK(error_of({"--thread-totals", "-f"}) ==
          "--thread-totals cannot be combined with --folded (folded lines only)");
}

TEST_CASE("--offcpu and --wakeup: one half of a chain each, so one of them, at depth 1") {
    CHECK(parse({"--offcpu"}).config.offcpu);
    CHECK(parse({"--wakeup", "-f", "5"}).config.wakeup);
    CHECK(parse({"--wakeup", "--no-waker-user-stacks"}).config.no_waker_user_stacks);
    CHECK(error_of({"--offcpu", "--wakeup"}) ==
          "--offcpu and --wakeup cannot be combined: each is one half of a chain");
    CHECK(error_of({"--wakeup", "--depth", "2"}) ==
          "--depth needs both halves of every chain: not with --wakeup");
    CHECK(error_of({"--offcpu", "--no-waker-user-stacks"}) ==
          "--no-waker-user-stacks has no wakers to leave out with --offcpu");
}

TEST_CASE("--diff takes two files and needs --svg, and traces nothing") {
    const auto diff = parse({"--diff", "a.folded", "b.folded", "--svg", "d.svg"});
    CHECK(diff.diff_before == "a.folded");
    CHECK(diff.diff_after == "b.folded");
    CHECK(diff.svg_path == "d.svg");
    CHECK(parse({"--svg", "d.svg", "--diff=a", "-b"}).diff_after == "-b");
    CHECK(error_of({"--diff", "a", "b"}) == "--diff needs --svg FILE, the differential flame graph to write");
    CHECK(error_of({"--svg", "d.svg", "--diff", "a"}) ==
          "option --diff needs two file names, BEFORE and AFTER");
    CHECK(error_of({"--diff", "a", "b", "--svg", "d.svg", "5"}) ==
          "--diff traces nothing: it takes no duration and no command to run");
    CHECK(error_of({"--diff", "a", "b", "--svg", "d.svg", "--", "true"}) ==
          "--diff traces nothing: it takes no duration and no command to run");
}

TEST_CASE("pprof file: besides the report and the flame graph, never in their place") {
    CHECK(parse({}).pprof_path.empty());
    const auto all = parse({"--pprof", "chains.pb.gz", "--svg", "chains.svg", "-o", "chains.txt"});
    CHECK(all.pprof_path == "chains.pb.gz");
    CHECK(all.svg_path == "chains.svg");
    CHECK(all.output_path == "chains.txt");
    CHECK(parse({"--pprof=out.pb.gz"}).pprof_path == "out.pb.gz");
    CHECK(error_of({"--pprof="}) == "option --pprof needs a file name");
    CHECK(error_of({"--pprof"}) == "option --pprof needs a value");
    CHECK(error_of({"--pprof", "same", "-o", "same"}) == "--pprof and --output cannot name the same file");
    CHECK(error_of({"--pprof", "same", "--svg", "same"}) == "--pprof and --svg cannot name the same file");
}

TEST_CASE("duration: positive seconds, decimals allowed, only one") {
    CHECK(parse({"5"}).duration_s == 5.0);
    CHECK(parse({"0.5"}).duration_s == 0.5);
    CHECK(parse({"2."}).duration_s == 2.0);
    CHECK(parse({".25"}).duration_s == 0.25);
    CHECK(parse({"-f", "10", "-K"}).duration_s == 10.0);
    for (const char* bad :
         {"0", "0.0", "-5", "abc", "5s", "1e3", "inf", "nan", ".", "1.2.3", "", "-", "+5", "1000000001"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse({bad}), UsageError);
    }
    CHECK(error_of({"5", "6"}) == "unexpected argument '6' (a command to run goes after --)");
}

TEST_CASE("everything after -- is the command, options included") {
    const Options options = parse({"-f", "3", "--", "make", "-j8", "--", "-p", "1"});
    CHECK(options.folded);
    CHECK(options.duration_s == 3.0);
    CHECK(options.command == std::vector<std::string>{"make", "-j8", "--", "-p", "1"});
    CHECK(parse({"-u", "--", "ls"}).command == std::vector<std::string>{"ls"});
    CHECK(error_of({"--"}) == "-- must be followed by a command to run");
    CHECK(error_of({"-p", "1", "--", "ls"}) == "--pid and --tid cannot be combined with a command to run");
    CHECK_THROWS_AS(parse({"-t", "1", "--", "ls"}), UsageError);
}

TEST_CASE("unknown options") {
    CHECK(error_of({"-x"}) == "unknown option -x");
    CHECK(error_of({"-fx"}) == "unknown option -x");
    CHECK(error_of({"--nope"}) == "unknown option --nope");
    CHECK(error_of({"--nope=1"}) == "unknown option --nope");
    CHECK(error_of({"--fold"}) == "unknown option --fold");  // no abbreviations
}

TEST_CASE("help wins over everything after it") {
    CHECK(parse({"-h"}).show_help);
    CHECK(parse({"--help"}).show_help);
    const Options options = parse({"-f", "--help", "-x", "garbage"});
    CHECK(options.show_help);
    CHECK_FALSE(options.folded);
    CHECK_THROWS_AS(parse({"-x", "--help"}), UsageError);
}

TEST_CASE("usage text names the program and every option") {
    const std::string text = waketrace::cli::usage_text("waketrace");
    CHECK(text.rfind("usage: waketrace [-h] ", 0) == 0);
    CHECK(text.back() == '\n');
    for (const char* option : {"--pid",
                               "--tid",
                               "--user-threads-only",
                               "--kernel-threads-only",
                               "--user-stacks-only",
                               "--kernel-stacks-only",
                               "--delimited",
                               "--folded",
                               "--stack-storage-size",
                               "--max-chains",
                               "--max-off-cpu-threads",
                               "--min-block-time",
                               "--max-block-time",
                               "--state",
                               "--output",
                               "--svg",
                               "--per-process",
                               "--per-thread",
                               "--thread-totals",
                               "--diff BEFORE AFTER",
                               "--pprof",
                               "--verbose",
                               "--help",
                               "--sample",
                               "--dwarf",
                               "--dwarf-stack-size",
                               "-- COMMAND"}) {
        INFO(option);
        CHECK(text.find(option) != std::string::npos);
    }
}

TEST_CASE("each option has spellings of its own, and main.cpp's messages use them") {
    const auto& specs = waketrace::cli::option_specs();
    for (size_t i = 0; i < specs.size(); ++i)
        for (size_t j = i + 1; j < specs.size(); ++j) {
            INFO(specs[i].long_name << " / " << specs[j].long_name);
            CHECK(specs[i].long_name != specs[j].long_name);
            CHECK((specs[i].short_name == '\0' || specs[i].short_name != specs[j].short_name));
        }
    CHECK(waketrace::cli::in_cli_terms(
              "invalid profiler config: min_block_us (10) is above max_block_us (5)") ==
          "invalid profiler config: --min-block-time (10) is above --max-block-time (5)");
    // Words that only contain a member's name, and log (a common word), stay.
    CHECK(waketrace::cli::in_cli_terms("the verifier log; max_chains_x; pids 3") ==
          "the verifier log; max_chains_x; --pid 3");
}
