// SPDX-License-Identifier: LGPL-2.1-or-later
//
// getopt-style parsing without getopt: getopt keeps global state and prints
// its own messages, and we want a pure function whose errors the caller owns.
// Short options cluster (-fdK), take values joined or separate (-p123, -p 123);
// long options take "--name value" or "--name=value".
#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

namespace waketrace::cli {
namespace {

enum class OptionId {
    help, pid, tid, user_threads_only, kernel_threads_only, user_stacks_only,
    kernel_stacks_only, delimited, folded, stack_storage_size, max_chains, max_off_cpu_threads,
    min_block_time,
    max_block_time, state, output, verbose, sample, dwarf, dwarf_stack_size, dwarf_ring_size,
};

// Options that pick the same setting in different ways; at most one of each
// group may be given (offwaketime's argparse groups).
enum class Group { none, targets, stacks };

struct OptionSpec {
    char short_name;  // '\0': long form only
    std::string_view long_name;
    bool takes_value;
    Group group;
    OptionId id;
};

constexpr OptionSpec option_table[] = {
    {'h', "help", false, Group::none, OptionId::help},
    {'p', "pid", true, Group::targets, OptionId::pid},
    {'t', "tid", true, Group::targets, OptionId::tid},
    {'u', "user-threads-only", false, Group::targets, OptionId::user_threads_only},
    {'k', "kernel-threads-only", false, Group::targets, OptionId::kernel_threads_only},
    {'U', "user-stacks-only", false, Group::stacks, OptionId::user_stacks_only},
    {'K', "kernel-stacks-only", false, Group::stacks, OptionId::kernel_stacks_only},
    {'d', "delimited", false, Group::none, OptionId::delimited},
    {'f', "folded", false, Group::none, OptionId::folded},
    {'\0', "stack-storage-size", true, Group::none, OptionId::stack_storage_size},
    {'\0', "max-chains", true, Group::none, OptionId::max_chains},
    {'\0', "max-off-cpu-threads", true, Group::none, OptionId::max_off_cpu_threads},
    {'m', "min-block-time", true, Group::none, OptionId::min_block_time},
    {'M', "max-block-time", true, Group::none, OptionId::max_block_time},
    {'\0', "state", true, Group::none, OptionId::state},
    {'o', "output", true, Group::none, OptionId::output},
    {'v', "verbose", false, Group::none, OptionId::verbose},
    {'\0', "sample", true, Group::none, OptionId::sample},
    {'\0', "dwarf", false, Group::none, OptionId::dwarf},
    {'\0', "dwarf-stack-size", true, Group::none, OptionId::dwarf_stack_size},
    {'\0', "dwarf-ring-size", true, Group::none, OptionId::dwarf_ring_size},
};

// --dwarf's user stack copy: perf's default, enough for most call chains.
constexpr uint32_t default_dwarf_stack_bytes = 8192;
// The kernel's largest ring we accept (the library's limit too).
constexpr uint64_t max_dwarf_ring_bytes = uint64_t(1) << 30;

// Keeps durations convertible to nanoseconds in 64 bits with room to spare.
constexpr double max_duration_s = 1e9;
// pid_t is a signed 32-bit int: larger ids cannot exist.
constexpr uint64_t max_thread_id = std::numeric_limits<int32_t>::max();

const OptionSpec* find_short(char name)
{
    auto it = std::find_if(std::begin(option_table), std::end(option_table),
                           [&](const OptionSpec& spec) { return spec.short_name == name; });
    return it == std::end(option_table) ? nullptr : &*it;
}

const OptionSpec* find_long(std::string_view name)
{
    auto it = std::find_if(std::begin(option_table), std::end(option_table),
                           [&](const OptionSpec& spec) { return spec.long_name == name; });
    return it == std::end(option_table) ? nullptr : &*it;
}

bool all_digits(std::string_view text)
{
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only: no sign, no spaces, no trailing junk (std::stoul takes all three).
uint64_t parse_unsigned(std::string_view spelling, std::string_view text, uint64_t min,
                        uint64_t max)
{
    uint64_t value = 0;
    const bool digits = all_digits(text);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!digits || ec != std::errc() || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError(fmt::format("invalid {} value '{}': expected an integer from {} to {}",
                                     spelling, text, min, max));
    }
    return value;
}

std::vector<uint32_t> parse_id_list(std::string_view spelling, std::string_view text)
{
    std::vector<uint32_t> ids;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string_view item = text.substr(start, comma - start);
        ids.push_back(static_cast<uint32_t>(parse_unsigned(spelling, item, 1, max_thread_id)));
        if (comma == std::string_view::npos)
            return ids;
        start = comma + 1;
    }
}

// Plain decimals only ("2", "0.5", "2."): from_chars alone would also take
// "inf", "nan" and exponents.
double parse_duration(std::string_view text)
{
    const auto invalid = [&] {
        return UsageError(fmt::format(
            "invalid duration '{}': expected a positive number of seconds, at most {:.0f}", text,
            max_duration_s));
    };
    const size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    const bool well_formed = (whole.empty() || all_digits(whole)) &&
                             (fraction.empty() || all_digits(fraction)) &&
                             (!whole.empty() || !fraction.empty());
    if (!well_formed)
        throw invalid();
    double seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) ||
        seconds > max_duration_s)
        throw invalid();
    return seconds;
}

// A BPF ring buffer is a power of two number of pages.
uint32_t parse_ring_size(std::string_view spelling, std::string_view value)
{
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const uint64_t bytes = parse_unsigned(spelling, value, page, max_dwarf_ring_bytes);
    const uint64_t pages = bytes / page;
    if (bytes % page != 0 || (pages & (pages - 1)) != 0)
        throw UsageError(fmt::format(
            "invalid {} value '{}': expected a power of two number of {}-byte pages, at most {}",
            spelling, value, page, max_dwarf_ring_bytes));
    return static_cast<uint32_t>(bytes);
}

class Parser {
public:
    Parser(int argc, const char* const* argv)
    {
        for (int i = 1; i < argc; ++i)
            args_.emplace_back(argv[i]);
    }

    Options run()
    {
        while (next_ < args_.size() && !options_.show_help) {
            const std::string_view arg = args_[next_++];
            if (arg == "--")
                take_command();
            else if (arg.substr(0, 2) == "--")
                parse_long(arg.substr(2));
            else if (arg.size() > 1 && arg[0] == '-' && !all_digits(arg.substr(1, 1)))
                parse_short_cluster(arg.substr(1));
            else
                parse_positional(arg);
        }
        if (options_.show_help)
            return help_only();
        check_combinations();
        return options_;
    }

private:
    // "name" or "name=value", without the leading "--".
    void parse_long(std::string_view body)
    {
        const size_t equals = body.find('=');
        const std::string_view name = body.substr(0, equals);
        const std::string spelling = fmt::format("--{}", name);
        const OptionSpec* spec = find_long(name);
        if (spec == nullptr)
            throw UsageError(fmt::format("unknown option {}", spelling));
        if (equals != std::string_view::npos) {
            if (!spec->takes_value)
                throw UsageError(fmt::format("option {} takes no value", spelling));
            apply(*spec, spelling, body.substr(equals + 1));
        } else {
            apply(*spec, spelling, spec->takes_value ? take_value(spelling) : std::string_view());
        }
    }

    // "fdK" or "p123" or "fp123", without the leading "-".
    void parse_short_cluster(std::string_view cluster)
    {
        for (size_t i = 0; i < cluster.size(); ++i) {
            const std::string spelling = fmt::format("-{}", cluster[i]);
            const OptionSpec* spec = find_short(cluster[i]);
            if (spec == nullptr)
                throw UsageError(fmt::format("unknown option {}", spelling));
            if (!spec->takes_value) {
                apply(*spec, spelling, {});
                continue;
            }
            const std::string_view joined = cluster.substr(i + 1);
            apply(*spec, spelling, joined.empty() ? take_value(spelling) : joined);
            return;
        }
    }

    void parse_positional(std::string_view arg)
    {
        if (options_.duration_s)
            throw UsageError(fmt::format(
                "unexpected argument '{}' (a command to run goes after --)", arg));
        options_.duration_s = parse_duration(arg);
    }

    void take_command()
    {
        if (next_ == args_.size())
            throw UsageError("-- must be followed by a command to run");
        options_.command.assign(args_.begin() + static_cast<std::ptrdiff_t>(next_), args_.end());
        next_ = args_.size();
    }

    std::string_view take_value(std::string_view spelling)
    {
        if (next_ == args_.size())
            throw UsageError(fmt::format("option {} needs a value", spelling));
        return args_[next_++];
    }

    void apply(const OptionSpec& spec, std::string_view spelling, std::string_view value)
    {
        claim_group(spec);
        Config& config = options_.config;
        switch (spec.id) {
        case OptionId::help: options_.show_help = true; break;
        case OptionId::pid: append(config.pids, parse_id_list(spelling, value)); break;
        case OptionId::tid: append(config.tids, parse_id_list(spelling, value)); break;
        case OptionId::user_threads_only: config.threads = ThreadKind::user_only; break;
        case OptionId::kernel_threads_only: config.threads = ThreadKind::kernel_only; break;
        case OptionId::user_stacks_only: config.stacks = StackKinds::user_only; break;
        case OptionId::kernel_stacks_only: config.stacks = StackKinds::kernel_only; break;
        case OptionId::delimited: options_.delimiter = true; break;
        case OptionId::folded: options_.folded = true; break;
        case OptionId::verbose: options_.verbose = true; break;
        case OptionId::stack_storage_size:
            config.stack_storage_size = static_cast<uint32_t>(
                parse_unsigned(spelling, value, 1, std::numeric_limits<uint32_t>::max()));
            break;
        case OptionId::max_chains:
            config.max_chains = static_cast<uint32_t>(
                parse_unsigned(spelling, value, 1, std::numeric_limits<uint32_t>::max()));
            break;
        case OptionId::max_off_cpu_threads:
            config.max_off_cpu_threads = static_cast<uint32_t>(
                parse_unsigned(spelling, value, 1, std::numeric_limits<uint32_t>::max()));
            break;
        case OptionId::min_block_time:
            config.min_block_us = parse_unsigned(spelling, value, 0, UINT64_MAX);
            break;
        case OptionId::max_block_time:
            config.max_block_us = parse_unsigned(spelling, value, 0, UINT64_MAX);
            break;
        case OptionId::state:
            config.state_mask = static_cast<uint32_t>(
                parse_unsigned(spelling, value, 0, std::numeric_limits<uint32_t>::max()));
            break;
        case OptionId::sample:
            config.stack_sample_percent = static_cast<uint32_t>(parse_unsigned(spelling, value, 1, 100));
            break;
        case OptionId::dwarf:
            if (config.dwarf_stack_bytes == 0)
                config.dwarf_stack_bytes = default_dwarf_stack_bytes;
            break;
        case OptionId::dwarf_stack_size: {
            const uint64_t bytes = parse_unsigned(spelling, value, 1024, 16384);
            if (bytes % 1024 != 0)
                throw UsageError(fmt::format("invalid {} value '{}': expected a multiple of 1024",
                                             spelling, value));
            config.dwarf_stack_bytes = static_cast<uint32_t>(bytes);
            break;
        }
        case OptionId::dwarf_ring_size:
            config.dwarf_ring_bytes = parse_ring_size(spelling, value);
            if (config.dwarf_stack_bytes == 0)
                config.dwarf_stack_bytes = default_dwarf_stack_bytes;
            break;
        case OptionId::output:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a file name", spelling));
            options_.output_path = std::string(value);
            break;
        }
    }

    // Repeating an option is fine (-p 1 -p 2 adds both pids); mixing two
    // options of one group is not.
    void claim_group(const OptionSpec& spec)
    {
        if (spec.group == Group::none)
            return;
        const OptionSpec*& owner = spec.group == Group::targets ? targets_owner_ : stacks_owner_;
        if (owner != nullptr && owner != &spec)
            throw UsageError(fmt::format("--{} cannot be combined with --{}", owner->long_name,
                                         spec.long_name));
        owner = &spec;
    }

    void check_combinations() const
    {
        const Config& config = options_.config;
        if (config.min_block_us > config.max_block_us)
            throw UsageError(fmt::format(
                "--min-block-time ({}) is larger than --max-block-time ({})", config.min_block_us,
                config.max_block_us));
        // The command's threads are the targets; other filters would hide them.
        if (!options_.command.empty() && (!config.pids.empty() || !config.tids.empty()))
            throw UsageError("--pid and --tid cannot be combined with a command to run");
    }

    static void append(std::vector<uint32_t>& to, const std::vector<uint32_t>& ids)
    {
        to.insert(to.end(), ids.begin(), ids.end());
    }

    static Options help_only()
    {
        Options options;
        options.show_help = true;
        return options;
    }

    std::vector<std::string_view> args_;
    size_t next_ = 0;
    Options options_;
    const OptionSpec* targets_owner_ = nullptr;
    const OptionSpec* stacks_owner_ = nullptr;
};

}  // namespace

Options parse_options(int argc, const char* const* argv)
{
    return Parser(argc, argv).run();
}

std::string option_for(std::string_view config_member)
{
    // Config members and the options that set them; the names match except
    // where offwaketime's spelling came first.
    static constexpr std::pair<std::string_view, std::string_view> spellings[] = {
        {"log", "-v"},
        {"pids", "-p"},
        {"tids", "-t"},
        {"state_mask", "--state"},
        {"min_block_us", "-m"},
        {"max_block_us", "-M"},
        {"stack_storage_size", "--stack-storage-size"},
        {"max_chains", "--max-chains"},
        {"max_off_cpu_threads", "--max-off-cpu-threads"},
        {"stack_sample_percent", "--sample"},
        {"dwarf_stack_bytes", "--dwarf-stack-size"},
        {"dwarf_ring_bytes", "--dwarf-ring-size"},
    };
    for (const auto& [member, option] : spellings)
        if (member == config_member)
            return std::string(option);
    return std::string();
}

std::string usage_text(std::string_view program)
{
    return fmt::format(
        R"(usage: {0} [-h] [-p PID[,PID..] | -t TID[,TID..] | -u | -k] [-U | -K] [-d] [-f]
       {1} [--stack-storage-size N] [--max-chains N] [--max-off-cpu-threads N]
       {1} [-m MIN_BLOCK_TIME] [-M MAX_BLOCK_TIME]
       {1} [--state STATE] [--sample PERCENT] [--dwarf] [--dwarf-stack-size BYTES]
       {1} [--dwarf-ring-size BYTES]
       {1} [-o FILE] [-v] [duration]
       {1} [-- COMMAND [ARGS...]]

Shows why threads were off CPU and who woke them: each blocked stack with the
stack of the task (or interrupt) that made it runnable again, summed in
microseconds.

positional arguments:
  duration                    seconds to trace (decimals allowed); default: until
                              Ctrl-C, or until COMMAND exits (a duration given
                              with COMMAND wins: tracing lasts that long)
  -- COMMAND [ARGS...]        run COMMAND and trace its threads

options:
  -h, --help                  show this help and exit
  -p, --pid PID[,PID..]       trace only these processes
  -t, --tid TID[,TID..]       trace only these threads
  -u, --user-threads-only     trace only user threads
  -k, --kernel-threads-only   trace only kernel threads
  -U, --user-stacks-only      show only user stacks
  -K, --kernel-stacks-only    show only kernel stacks
  -d, --delimited             put "-" between the user and kernel part of a stack
  -f, --folded                one line per chain, for flamegraph.pl --color=chain
      --stack-storage-size N  distinct stacks the kernel map holds (default 16384)
      --max-chains N          distinct (target, waker) chains the kernel map holds
                              (default 16384)
      --max-off-cpu-threads N threads that can be off CPU at the same moment
                              (default 16384)
  -m, --min-block-time US     ignore off-CPU periods shorter than US microseconds
                              (default 1)
  -M, --max-block-time US     ignore off-CPU periods longer than US microseconds
      --state STATE           keep switch-outs whose task state has a bit of STATE
                              (2: uninterruptible); 0 keeps only preemptions
      --sample PERCENT        take stacks for PERCENT of blocking events (1-100,
                              default 100): much cheaper; every event is still
                              timed, and chain totals are scaled-up estimates
      --dwarf                 unwind user stacks with the binaries' unwind tables
                              instead of frame pointers: names the callers of
                              code built without them (libc); costs more
      --dwarf-stack-size BYTES
                              user stack bytes copied per stack in --dwarf mode
                              (1024-16384, a multiple of 1024; default 8192);
                              implies --dwarf
      --dwarf-ring-size BYTES
                              the ring buffer that carries --dwarf mode's stack
                              copies to the unwinding thread (a power of two
                              number of pages, up to 1 GiB; default: 4096 copies
                              per CPU, at least 8192, at most 32 MiB); raise it
                              if stacks are lost to a full ring; implies --dwarf
  -o, --output FILE           write the report to FILE instead of standard output
  -v, --verbose               log what the profiler and the BPF loader do

examples:
  {0} 5                      five seconds of every thread
  {0} -p 185 -f 10 > out     one process, folded, for a flame graph
  {0} -K -m 1000             kernel stacks of blocks of 1 ms or more
  {0} -- make -j8            trace a build from start to finish
)",
        program, std::string(program.size(), ' '));
}

}  // namespace waketrace::cli
