// SPDX-License-Identifier: LGPL-2.1-or-later
//
// --help: the synopsis and one entry per option, in option_specs()' order;
// a table option's entry is its row's help with its bounds and default.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "option_specs.hpp"
#include "options.hpp"

namespace waketrace::cli {
namespace {

// The widths --help had when it was written by hand.
constexpr size_t kWidth = 82;
constexpr size_t kSynopsisWidth = 88;
constexpr size_t kHelpColumn = 30;

// `words` joined by spaces into lines of at most `width` characters (a
// longer word stands alone); the first line starts at `first_column`, the
// others are indented by `indent`.
std::string wrap(const std::vector<std::string>& words, size_t indent, size_t first_column,
                 size_t width = kWidth) {
    std::string text;
    size_t column = first_column;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0 && column + 1 + words[i].size() > width) {
            text += '\n' + std::string(indent, ' ');
            column = indent;
        } else if (i > 0) {
            text += ' ';
            ++column;
        }
        text += words[i];
        column += words[i].size();
    }
    return text;
}

std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    size_t start = 0;
    while (start < text.size()) {
        const size_t space = std::min(text.find(' ', start), text.size());
        if (space > start)
            words.emplace_back(text.substr(start, space - start));
        start = space + 1;
    }
    return words;
}

std::string entry(const OptionSpec& spec) {
    std::string left = spec.short_name ? fmt::format("  -{}, ", spec.short_name) : std::string(6, ' ');
    left += fmt::format("--{}", spec.long_name);
    if (spec.takes_value())
        left += fmt::format(" {}", spec.value_name);
    const std::string help = spec.option ? option_help(*spec.option) : std::string(spec.help);
    if (left.size() < kHelpColumn)
        left.resize(kHelpColumn, ' ');
    else
        left += '\n' + std::string(kHelpColumn, ' ');
    return left + wrap(words_of(help), kHelpColumn, kHelpColumn) + '\n';
}

// "[-m US]", "[--max-chains N]", "[--dwarf]"
std::string synopsis_item(const OptionSpec& spec) {
    std::string item =
        spec.short_name ? fmt::format("[-{}", spec.short_name) : fmt::format("[--{}", spec.long_name);
    if (spec.takes_value())
        item += fmt::format(" {}", spec.value_name);
    return item + ']';
}

// The options between -f and -o (the table's, --dwarf, and the naming and
// totals options), wrapped.
std::string synopsis_middle(size_t indent) {
    std::vector<std::string> items;
    bool between = false;
    Group previous = Group::none;
    for (const OptionSpec& spec : option_specs()) {
        if (spec.action == Action::output)
            break;
        // Options of one group, which exclude each other: "[--a | --b]".
        if (between && spec.group != Group::none && spec.group == previous) {
            const std::string item = synopsis_item(spec);
            items.back().insert(items.back().size() - 1, " | " + item.substr(1, item.size() - 2));
        } else if (between) {
            items.push_back(synopsis_item(spec));
        }
        between = between || spec.action == Action::folded;
        previous = spec.group;
    }
    return wrap(items, indent, indent, kSynopsisWidth);
}

}  // namespace

static std::string default_text(const options::Option& option) {
    if (option.name == "dwarf_stack_bytes")
        return fmt::format("default {}", kDwarfDefaultStackBytes);
    if (!option.zero_means.empty())
        return fmt::format("default: {}", option.zero_means);
    const std::optional<uint64_t> value = options::default_value(option);
    if (option.kind == options::Kind::flag || !value || *value == option.type_max)
        return {};
    return fmt::format("default {}", *value);
}

// The row's help, then "(bounds; default)", then what it implies. A lower
// bound alone goes without saying.
std::string option_help(const options::Option& option) {
    std::string help(option.help);
    std::vector<std::string> notes;
    if (option.rule || option.max < option.type_max)
        notes.push_back(options::bounds_text(option));
    if (std::string value = default_text(option); !value.empty())
        notes.push_back(std::move(value));
    if (!notes.empty())
        help += fmt::format(" ({})", fmt::join(notes, "; "));
    if (implies_dwarf(option))
        help += "; implies --dwarf";
    return help;
}

std::string usage_text(std::string_view program) {
    const std::string indent(program.size() + 8, ' ');
    std::string text =
        fmt::format("usage: {} [-h] [-p PID[,PID..] | -t TID[,TID..] | -u | -k] [--cgroup PATH]\n", program);
    text += indent + "[-U | -K] [-d] [-f]\n";
    text += indent + synopsis_middle(indent.size()) + '\n';
    text += indent + "[-o FILE] [--svg FILE] [--pprof FILE] [--perfetto FILE]\n";
    text += indent + "[--trigger-window SECONDS] [--trigger-dir DIR] [-v] [duration]\n";
    text += indent + "[-- COMMAND [ARGS...]]\n";
    text += fmt::format("       {} --diff BEFORE AFTER --svg FILE\n", program);
    text += R"(
Shows why threads were off CPU and who woke them: each blocked stack with the
stack of the task (or interrupt) that made it runnable again, summed in
microseconds.

positional arguments:
  duration                    seconds to trace (decimals allowed); default: until
                              Ctrl-C, or until COMMAND exits (a duration given
                              with COMMAND wins: tracing lasts that long)
  -- COMMAND [ARGS...]        run COMMAND and trace its threads

options:
)";
    for (const OptionSpec& spec : option_specs())
        text += entry(spec);
    text += fmt::format(R"(
examples:
  {0} 5                      five seconds of every thread
  {0} -p 185 -f 10 > out     one process, folded, for a flame graph
  {0} -K -m 1000             kernel stacks of blocks of 1 ms or more
  {0} -- ./server --port 80  one program, from its first instruction
  {0} --per-process -f 10    each process apart, folded
  {0} --diff a.folded b.folded --svg diff.svg
                             what changed between two folded runs
)",
                        program);
    return text;
}

}  // namespace waketrace::cli
