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
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "option_specs.hpp"

namespace waketrace::cli {
namespace {

// Keeps durations convertible to nanoseconds in 64 bits with room to spare.
constexpr double max_duration_s = 1e9;
// pid_t is a signed 32-bit int: larger ids cannot exist.
constexpr uint64_t max_thread_id = std::numeric_limits<int32_t>::max();

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Digits only: no sign, no spaces, no trailing junk (std::stoul takes all
// three); nullopt also past 64 bits.
std::optional<uint64_t> digits_value(std::string_view text) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!all_digits(text) || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

uint64_t parse_unsigned(std::string_view spelling, std::string_view text, uint64_t min, uint64_t max) {
    const std::optional<uint64_t> value = digits_value(text);
    if (!value || *value < min || *value > max)
        throw UsageError(fmt::format("invalid {} value '{}': expected an integer from {} to {}", spelling,
                                     text, min, max));
    return *value;
}

std::vector<uint32_t> parse_id_list(std::string_view spelling, std::string_view text) {
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
double parse_duration(std::string_view text) {
    const auto invalid = [&] {
        return UsageError(
            fmt::format("invalid duration '{}': expected a positive number of seconds, at most {:.0f}", text,
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
    if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) || seconds > max_duration_s)
        throw invalid();
    return seconds;
}

// A table option's value: digits within the row's bounds and rule. Zero
// where only Config takes it (a default, or off) is what leaving the option
// out gives.
uint64_t parse_option_value(std::string_view spelling, std::string_view text, const options::Option& option) {
    const std::optional<uint64_t> value = digits_value(text);
    if (option.rule && !(value && options::within_bounds(option, *value)))
        throw UsageError(
            fmt::format("invalid {} value '{}': expected {}", spelling, text, option.rule->describe()));
    return parse_unsigned(spelling, text, option.min, option.max);
}

class Parser {
public:
    Parser(int argc, const char* const* argv) {
        for (int i = 1; i < argc; ++i)
            args_.emplace_back(argv[i]);
    }

    Options run() {
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
    void parse_long(std::string_view body) {
        const size_t equals = body.find('=');
        const std::string_view name = body.substr(0, equals);
        const std::string spelling = fmt::format("--{}", name);
        const OptionSpec* spec = find_long(name);
        if (spec == nullptr)
            throw UsageError(fmt::format("unknown option {}", spelling));
        if (equals != std::string_view::npos) {
            if (!spec->takes_value())
                throw UsageError(fmt::format("option {} takes no value", spelling));
            apply(*spec, spelling, body.substr(equals + 1));
        } else {
            apply(*spec, spelling, spec->takes_value() ? take_value(spelling) : std::string_view());
        }
    }

    // "fdK" or "p123" or "fp123", without the leading "-".
    void parse_short_cluster(std::string_view cluster) {
        for (size_t i = 0; i < cluster.size(); ++i) {
            const std::string spelling = fmt::format("-{}", cluster[i]);
            const OptionSpec* spec = find_short(cluster[i]);
            if (spec == nullptr)
                throw UsageError(fmt::format("unknown option {}", spelling));
            if (!spec->takes_value()) {
                apply(*spec, spelling, {});
                continue;
            }
            const std::string_view joined = cluster.substr(i + 1);
            apply(*spec, spelling, joined.empty() ? take_value(spelling) : joined);
            return;
        }
    }

    void parse_positional(std::string_view arg) {
        if (options_.duration_s)
            throw UsageError(fmt::format("unexpected argument '{}' (a command to run goes after --)", arg));
        options_.duration_s = parse_duration(arg);
    }

    void take_command() {
        if (next_ == args_.size())
            throw UsageError("-- must be followed by a command to run");
        options_.command.assign(args_.begin() + static_cast<std::ptrdiff_t>(next_), args_.end());
        next_ = args_.size();
    }

    std::string_view take_value(std::string_view spelling) {
        if (next_ == args_.size())
            throw UsageError(fmt::format("option {} needs a value", spelling));
        return args_[next_++];
    }

    void apply(const OptionSpec& spec, std::string_view spelling, std::string_view value) {
        claim_group(spec);
        Config& config = options_.config;
        switch (spec.action) {
        case Action::set_option: set_option(*spec.option, spelling, value); break;
        case Action::help: options_.show_help = true; break;
        case Action::pid: append(config.pids, parse_id_list(spelling, value)); break;
        case Action::tid: append(config.tids, parse_id_list(spelling, value)); break;
        case Action::cgroup:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a cgroup directory", spelling));
            config.cgroups.emplace_back(value);
            break;
        case Action::user_threads_only: config.threads = ThreadKind::user_only; break;
        case Action::kernel_threads_only: config.threads = ThreadKind::kernel_only; break;
        case Action::user_stacks_only: config.stacks = StackKinds::user_only; break;
        case Action::kernel_stacks_only: config.stacks = StackKinds::kernel_only; break;
        case Action::delimited: options_.delimiter = true; break;
        case Action::folded: options_.folded = true; break;
        case Action::per_process: options_.task_names = TaskNames::per_process; break;
        case Action::per_thread: options_.task_names = TaskNames::per_thread; break;
        case Action::thread_totals: options_.thread_totals = true; break;
        case Action::verbose: options_.verbose = true; break;
        case Action::dwarf: imply_dwarf(); break;
        case Action::output:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a file name", spelling));
            options_.output_path = std::string(value);
            break;
        case Action::svg:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a file name", spelling));
            options_.svg_path = std::string(value);
            break;
        case Action::diff:
            // Its second file is the next argument, whatever it looks like.
            if (value.empty() || next_ == args_.size() || args_[next_].empty())
                throw UsageError(fmt::format("option {} needs two file names, BEFORE and AFTER", spelling));
            options_.diff_before = std::string(value);
            options_.diff_after = std::string(args_[next_++]);
            break;
        case Action::pprof:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a file name", spelling));
            options_.pprof_path = std::string(value);
            break;
        case Action::trigger_dir:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a directory", spelling));
            options_.trigger_dir = std::string(value);
            break;
        case Action::trigger_window: options_.trigger_window_s = parse_duration(value); break;
        case Action::perfetto:
            if (value.empty())
                throw UsageError(fmt::format("option {} needs a file name", spelling));
            options_.perfetto_path = std::string(value);
            break;
        }
    }

    void set_option(const options::Option& option, std::string_view spelling, std::string_view value) {
        option.set(options_.config,
                   option.kind == options::Kind::flag ? 1 : parse_option_value(spelling, value, option));
        if (implies_dwarf(option))
            imply_dwarf();
    }

    void imply_dwarf() {
        if (options_.config.dwarf_stack_bytes == 0)
            options_.config.dwarf_stack_bytes = kDwarfDefaultStackBytes;
    }

    // Repeating an option is fine (-p 1 -p 2 adds both pids); mixing two
    // options of one group is not.
    void claim_group(const OptionSpec& spec) {
        if (spec.group == Group::none)
            return;
        const OptionSpec*& owner = spec.group == Group::targets  ? targets_owner_
                                   : spec.group == Group::stacks ? stacks_owner_
                                                                 : task_names_owner_;
        if (owner != nullptr && owner != &spec)
            throw UsageError(
                fmt::format("--{} cannot be combined with --{}", owner->long_name, spec.long_name));
        owner = &spec;
    }

    void check_combinations() const {
        const Config& config = options_.config;
        if (config.min_block_us > config.max_block_us)
            throw UsageError(fmt::format("{} ({}) is larger than {} ({})", option_for("min_block_us"),
                                         config.min_block_us, option_for("max_block_us"),
                                         config.max_block_us));
        if (config.offcpu && config.wakeup)
            throw UsageError(fmt::format("{} and {} cannot be combined: each is one half of a chain",
                                         option_for("offcpu"), option_for("wakeup")));
        if ((config.offcpu || config.wakeup) && config.chain_depth > 1)
            throw UsageError(fmt::format("{} needs both halves of every chain: not with {}",
                                         option_for("chain_depth"),
                                         option_for(config.offcpu ? "offcpu" : "wakeup")));
        if (config.offcpu && config.no_waker_user_stacks)
            throw UsageError(fmt::format("{} has no wakers to leave out with {}",
                                         option_for("no_waker_user_stacks"), option_for("offcpu")));
        if (options_.thread_totals && options_.folded)
            throw UsageError("--thread-totals cannot be combined with --folded (folded lines only)");
        if (!options_.diff_before.empty())
            check_diff();
        if (!options_.svg_path.empty() && options_.svg_path == options_.output_path)
            throw UsageError("--svg and --output cannot name the same file");
        if (!options_.pprof_path.empty() && options_.pprof_path == options_.output_path)
            throw UsageError("--pprof and --output cannot name the same file");
        if (!options_.pprof_path.empty() && options_.pprof_path == options_.svg_path)
            throw UsageError("--pprof and --svg cannot name the same file");
        if (!options_.perfetto_path.empty() &&
            (options_.perfetto_path == options_.output_path || options_.perfetto_path == options_.svg_path ||
             options_.perfetto_path == options_.pprof_path))
            throw UsageError("--perfetto names the same file as --output, --svg or --pprof");
        if ((config.events || !options_.perfetto_path.empty() || config.trigger_blocked_ms) &&
            config.dwarf_stack_bytes)
            throw UsageError(fmt::format("{}, --perfetto and {} cannot be combined with --dwarf yet",
                                         option_for("events"), option_for("trigger_blocked_ms")));
        // The command's threads are the targets; other filters would hide them.
        if (!options_.command.empty() && (!config.pids.empty() || !config.tids.empty()))
            throw UsageError("--pid and --tid cannot be combined with a command to run");
    }

    // --diff only reads two files and writes a picture.
    void check_diff() const {
        if (options_.svg_path.empty())
            throw UsageError("--diff needs --svg FILE, the differential flame graph to write");
        if (!options_.command.empty() || options_.duration_s)
            throw UsageError("--diff traces nothing: it takes no duration and no command to run");
        if (!options_.pprof_path.empty() || !options_.perfetto_path.empty())
            throw UsageError(
                "--diff draws a flame graph only: it writes no --pprof profile or --perfetto trace");
    }

    static void append(std::vector<uint32_t>& to, const std::vector<uint32_t>& ids) {
        to.insert(to.end(), ids.begin(), ids.end());
    }

    static Options help_only() {
        Options options;
        options.show_help = true;
        return options;
    }

    std::vector<std::string_view> args_;
    size_t next_ = 0;
    Options options_;
    const OptionSpec* targets_owner_ = nullptr;
    const OptionSpec* stacks_owner_ = nullptr;
    const OptionSpec* task_names_owner_ = nullptr;
};

}  // namespace

Options parse_options(int argc, const char* const* argv) { return Parser(argc, argv).run(); }

std::string option_for(std::string_view config_member) {
    // Config members the command line's own options set.
    static constexpr std::pair<std::string_view, std::string_view> own[] = {
        {"log", "-v"},
        {"pids", "--pid"},
        {"tids", "--tid"},
        {"cgroups", "--cgroup"},
    };
    for (const auto& [member, option] : own)
        if (member == config_member)
            return std::string(option);
    if (const options::Option* option = options::find(config_member))
        return fmt::format("--{}", option->cli_long);
    return std::string();
}

namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::string in_cli_terms(std::string_view message) {
    std::string text;
    size_t i = 0;
    while (i < message.size()) {
        if (!is_name_char(message[i])) {
            text += message[i++];
            continue;
        }
        size_t end = i;
        while (end < message.size() && is_name_char(message[end]))
            ++end;
        const std::string_view word = message.substr(i, end - i);
        const std::string option = word == "log" ? std::string() : option_for(word);
        text += option.empty() ? std::string(word) : option;
        i = end;
    }
    return text;
}

}  // namespace waketrace::cli
