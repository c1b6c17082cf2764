// SPDX-License-Identifier: LGPL-2.1-or-later
#include "keyword_doc.hpp"

#include <fmt/format.h>

#include <optional>
#include <string_view>
#include <vector>

#include <waketrace/options.hpp>

#include "config_from_python.hpp"
#include "module_parts.hpp"

namespace waketrace::python {
namespace {

constexpr size_t kWidth = 79;

// `words` joined by spaces into lines of at most kWidth characters, the
// first starting at `first_column`, the others indented by `indent`.
std::string wrap(const std::vector<std::string>& words, size_t indent, size_t first_column) {
    std::string text;
    size_t column = first_column;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0 && column + 1 + words[i].size() > kWidth) {
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

// What the signature shows: the default, or None where it has no short form.
std::string shown_default(const options::Option& option) {
    const std::optional<uint64_t> value = options::default_value(option);
    if (option.kind == options::Kind::flag)
        return *value ? "True" : "False";
    if (!value || *value == option.type_max)
        return "None";
    return std::to_string(*value);
}

// "name: help (bounds; default)."
std::string option_paragraph(const options::Option& option) {
    std::vector<std::string> notes;
    if (option.rule || option.max < option.type_max)
        notes.push_back(options::bounds_text(option));
    const std::optional<uint64_t> value = options::default_value(option);
    if (!option.zero_means.empty())
        notes.push_back(fmt::format("0, the default: {}", option.zero_means));
    else if (option.kind == options::Kind::number && value && *value != option.type_max)
        notes.push_back(fmt::format("default {}", *value));
    std::string text = fmt::format("{}: {}", option.name, option.help);
    if (!notes.empty())
        text += fmt::format(" ({})", fmt::join(notes, "; "));
    return wrap(words_of(text + '.'), 4, 0);
}

std::string own_paragraph(const OwnKeyword& keyword) {
    std::string text = fmt::format("{}: {}", keyword.name, keyword.doc);
    if (text.back() != '.')
        text += '.';
    return wrap(words_of(text), 4, 0);
}

std::string signature() {
    std::vector<std::string> items = {"*,"};
    auto add = [&](std::string_view name, std::string_view value) {
        items.push_back(fmt::format("{}={},", name, value));
    };
    for (const OwnKeyword& keyword : own_keywords)
        if (keyword.name != "log")
            add(keyword.name, keyword.shown_default);
    for (const options::Option& option : options::table)
        add(option.name, shown_default(option));
    add("log", "None");
    items.back().back() = ')';
    constexpr std::string_view opening = "Profiler(";
    return std::string(opening) + wrap(items, opening.size(), opening.size());
}

}  // namespace

std::string profiler_doc() {
    std::string doc = "Profiles off-CPU time and wakeups.\n\n" + signature() + "\n\n";
    doc += "Keywords only; None, like leaving one out, gives its default.\n\n";
    for (const OwnKeyword& keyword : own_keywords)
        if (keyword.name != "log")
            doc += own_paragraph(keyword) + '\n';
    for (const options::Option& option : options::table)
        doc += option_paragraph(option) + '\n';
    for (const OwnKeyword& keyword : own_keywords)
        if (keyword.name == "log")
            doc += own_paragraph(keyword) + '\n';
    doc += R"(
What does not fit in a kernel map is counted in Profile.losses
(stack_map_full, chain_map_full, missed_switch_outs / thread_map_full;
user_stack_events, period_events for dwarf_ring_bytes): raise the keyword
that sized it, e.g. max_chains=65536.

With events=True each off-CPU period is also an OffCpuEvent of its own, read
while the profiler runs (read_events(), events(), events_fd()) and after it
stops; stack_frames() and event_stacks() name their stacks.

Bad options raise ValueError here (TypeError for a value of the wrong type or
an unknown keyword); nothing touches the kernel until start(). As a context
manager it starts on entry and stops on exit; results stay readable
afterwards.)";
    return doc;
}

void bind_option_table(pybind11::module_& module) {
    module.def(
        "_option_table",
        [] {
            pybind11::list rows;
            for (const options::Option& option : options::table) {
                pybind11::dict row;
                row["name"] = std::string(option.name);
                row["kind"] = option.kind == options::Kind::flag              ? "flag"
                              : option.kind == options::Kind::optional_number ? "optional_number"
                                                                              : "number";
                row["min"] = option.min;
                row["max"] = option.max;
                row["type_max"] = option.type_max;
                row["zero_allowed"] = !option.zero_means.empty();
                row["default"] = pybind11::none();
                if (const std::optional<uint64_t> value = options::default_value(option))
                    row["default"] = *value;
                rows.append(row);
            }
            return rows;
        },
        "The scalar keywords of Profiler with their bounds (include/waketrace/options.hpp), for\n"
        "tests and tools; not a stable interface.");
}

}  // namespace waketrace::python
