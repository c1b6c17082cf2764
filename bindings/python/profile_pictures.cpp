// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profile as pictures: flamegraph() returns the library's flame
// graph SVG, and Jupyter shows a Profile as that graph (_repr_svg_) or, where
// HTML is shown, as the graph above a sortable table of its top chains
// (_repr_html_). Added to the class bind_profile() made. diff_flamegraph(),
// a module function, compares two folded profiles.
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "format/format.hpp"

#include "captured_profile.hpp"
#include "module_parts.hpp"
#include "option_names.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// Rows in a notebook's table: enough to see what matters, few enough to read.
constexpr size_t kNotebookRows = 20;

FlameMetric parse_metric(std::string_view name) {
    if (name == "total")
        return FlameMetric::total;
    if (name == "blocked")
        return FlameMetric::blocked;
    if (name == "runqueue")
        return FlameMetric::runqueue;
    throw py::value_error("metric='" + std::string(name) + "' is not one of 'total', 'blocked', 'runqueue'");
}

struct FlameArguments {
    std::string metric;
    bool delimiter = false;
    std::optional<std::string> stacks;
    std::optional<std::string> title;
    bool per_process = false;
    bool per_thread = false;
};

FlameGraphOptions flame_options(const CapturedProfile& captured, const FlameArguments& arguments) {
    FlameGraphOptions options;
    options.metric = parse_metric(arguments.metric);
    options.format.stacks = arguments.stacks ? parse_stack_kinds(*arguments.stacks) : captured.stacks;
    options.format.delimiter = arguments.delimiter;
    options.format.task_names = task_names_of(arguments.per_process, arguments.per_thread);
    options.title = arguments.title.value_or("");
    return options;
}

// One side of diff_flamegraph(), its syntax errors as ValueError naming the side.
std::vector<FoldedStack> folded_side(const std::string& text, const std::string& name) {
    try {
        return parse_folded(text);
    } catch (const FoldedSyntaxError& e) {
        throw py::value_error(name + " is not folded: " + e.what());
    }
}

std::string diff_graph(const std::string& before, const std::string& after, const DiffGraphOptions& options) {
    const std::vector<FoldedStack> then = folded_side(before, options.before_name);
    const std::vector<FoldedStack> now = folded_side(after, options.after_name);
    py::gil_scoped_release unlocked;
    return format_diff_flamegraph_svg(then, now, options);
}

// The graph a notebook shows: the stacks the profiler captured, total widths.
FlameGraphOptions notebook_options(const CapturedProfile& captured) {
    FlameGraphOptions options;
    options.format.stacks = captured.stacks;
    return options;
}

// Pure string work on an object nobody can change: other Python threads
// may run meanwhile.
std::string flame_graph(const CapturedProfile& captured, const FlameGraphOptions& options) {
    py::gil_scoped_release unlocked;
    return format_flamegraph_svg(captured.profile, options);
}

// The graph inline in HTML (without its XML declaration, which HTML does not
// take), scrolling sideways in a narrow page, then the table.
std::string notebook_html(const CapturedProfile& captured) {
    std::string svg;
    std::string table;
    {
        py::gil_scoped_release unlocked;
        svg = format_flamegraph_svg(captured.profile, notebook_options(captured));
        table = format_chain_table_html(captured.profile, kNotebookRows);
    }
    const size_t start = svg.find("<svg");
    return "<div class=\"waketrace-profile\">\n<div style=\"overflow-x: auto\">\n" + svg.substr(start) +
           "</div>\n" + table + "</div>\n";
}

const char* const kFlamegraphDoc =
    R"(The chains as an interactive flame graph: one self-contained SVG document,
returned as a string (write it to a .svg file, or show it with
IPython.display.SVG). Frames of the target are blue, each waker level has a
hue of its own, interrupt wakers are orange. In a browser: click a frame to
zoom, Search highlights frames matching a regular expression and prints
their share, and a switch redraws the widths by total, blocked or runqueue
time.

metric: the widths it opens on, "total" (default), "blocked" or
"runqueue". delimiter: a "-" between the user and the kernel part of each
stack. stacks: "both", "kernel" or "user"; None (default) shows the stacks
the profiler captured. title: the heading; None for the default.
per_process: name each target and task waker "comm-pid", so processes
sharing a name get frames of their own; per_thread: "comm-pid/tid".)";

const char* const kDiffDoc =
    R"(A differential flame graph of two folded profiles (Profile.folded() or
`waketrace -f` output, as strings): one SVG document, as flamegraph()
returns. Every stack of either is drawn as wide as its value in `after`,
red where it grew, blue where it shrank (the stronger, the larger the
change); grey where unchanged. Tooltips give both values and the change.
Stacks only in `before` have no width in `after`: the subtitle counts them
and the graph's "before" width switch draws them. Raises ValueError, naming
the side and the line, for text that is not folded.

before_name, after_name: what the two are called in the graph. title: the
heading; None for the default. widths: "after" (default) or "before", the
widths the graph opens on.)";

}  // namespace

void bind_profile_pictures(py::module_& module) {
    auto profile = py::reinterpret_borrow<py::class_<CapturedProfile>>(module.attr("Profile"));
    profile
        .def(
            "flamegraph",
            [](const CapturedProfile& c, const std::string& metric, bool delimiter,
               const std::optional<std::string>& stacks, const std::optional<std::string>& title,
               bool per_process, bool per_thread) {
                return os_string(flame_graph(
                    c, flame_options(c, {metric, delimiter, stacks, title, per_process, per_thread})));
            },
            py::arg("metric") = "total", py::kw_only(), py::arg("delimiter") = false,
            py::arg("stacks") = py::none(), py::arg("title") = py::none(), py::arg("per_process") = false,
            py::arg("per_thread") = false, kFlamegraphDoc)
        .def(
            "_repr_svg_",
            [](const CapturedProfile& c) { return os_string(flame_graph(c, notebook_options(c))); },
            "Jupyter's SVG display: flamegraph().")
        .def(
            "_repr_html_", [](const CapturedProfile& c) { return os_string(notebook_html(c)); },
            "Jupyter's HTML display: the flame graph, then a table of the top chains (click a heading\n"
            "to sort by it).");
    module.def(
        "diff_flamegraph",
        [](const std::string& before, const std::string& after, const std::string& before_name,
           const std::string& after_name, const std::optional<std::string>& title,
           const std::string& widths) {
            if (widths != "after" && widths != "before")
                throw py::value_error("widths='" + widths + "' is not one of 'after', 'before'");
            DiffGraphOptions options;
            options.before_name = before_name;
            options.after_name = after_name;
            options.title = title.value_or("");
            options.widths_by_before = widths == "before";
            return os_string(diff_graph(before, after, options));
        },
        py::arg("before"), py::arg("after"), py::kw_only(), py::arg("before_name") = "before",
        py::arg("after_name") = "after", py::arg("title") = py::none(), py::arg("widths") = "after",
        kDiffDoc);
}

}  // namespace waketrace::python
