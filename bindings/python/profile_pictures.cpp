// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profile as pictures: flamegraph() returns the library's flame
// graph SVG, and Jupyter shows a Profile as that graph (_repr_svg_) or, where
// HTML is shown, as the graph above a sortable table of its top chains
// (_repr_html_). Added to the class bind_profile() made.
#include <pybind11/stl.h>

#include <optional>
#include <string>

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

FlameGraphOptions flame_options(const CapturedProfile& captured, const std::string& metric, bool delimiter,
                                const std::optional<std::string>& stacks,
                                const std::optional<std::string>& title) {
    FlameGraphOptions options;
    options.metric = parse_metric(metric);
    options.format.stacks = stacks ? parse_stack_kinds(*stacks) : captured.stacks;
    options.format.delimiter = delimiter;
    options.title = title.value_or("");
    return options;
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
the profiler captured. title: the heading; None for the default.)";

}  // namespace

void bind_profile_pictures(py::module_& module) {
    auto profile = py::reinterpret_borrow<py::class_<CapturedProfile>>(module.attr("Profile"));
    profile
        .def(
            "flamegraph",
            [](const CapturedProfile& c, const std::string& metric, bool delimiter,
               const std::optional<std::string>& stacks, const std::optional<std::string>& title) {
                return os_string(flame_graph(c, flame_options(c, metric, delimiter, stacks, title)));
            },
            py::arg("metric") = "total", py::kw_only(), py::arg("delimiter") = false,
            py::arg("stacks") = py::none(), py::arg("title") = py::none(), kFlamegraphDoc)
        .def(
            "_repr_svg_",
            [](const CapturedProfile& c) { return os_string(flame_graph(c, notebook_options(c))); },
            "Jupyter's SVG display: flamegraph().")
        .def(
            "_repr_html_", [](const CapturedProfile& c) { return os_string(notebook_html(c)); },
            "Jupyter's HTML display: the flame graph, then a table of the top chains (click a heading\n"
            "to sort by it).");
}

}  // namespace waketrace::python
