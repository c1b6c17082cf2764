// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profile: the chains, the losses and the duration, plus the
// command's two output layouts and a pandas view.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <optional>
#include <string>

#include "format/format.hpp"

#include "captured_profile.hpp"
#include "dataframe.hpp"
#include "module_parts.hpp"
#include "option_names.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// The keywords every layout takes.
struct LayoutArguments {
    bool delimiter = false;
    std::optional<std::string> stacks;
    bool per_process = false;
    bool per_thread = false;
};

FormatOptions format_options(const CapturedProfile& captured, const LayoutArguments& arguments) {
    FormatOptions options;
    options.stacks = arguments.stacks ? parse_stack_kinds(*arguments.stacks) : captured.stacks;
    options.delimiter = arguments.delimiter;
    options.task_names = task_names_of(arguments.per_process, arguments.per_thread);
    options.histograms = true;  // text(): under each chain that has them (histograms=True)
    return options;
}

// format_folded / format_text: pure string work on an object nobody can
// change, so other Python threads may run meanwhile.
template <typename Format>
py::str formatted(const CapturedProfile& captured, const LayoutArguments& arguments, Format format) {
    const FormatOptions options = format_options(captured, arguments);
    std::string text;
    {
        py::gil_scoped_release unlocked;
        text = format(captured.profile, options);
    }
    return os_string(text);
}

// pybind11 keeps pointers to docstrings: these must live as long as the module.
const std::string kFormatArguments = R"(

delimiter: put a "-" between the user and the kernel part of each stack
(offwaketime -d). stacks: "both", "kernel" or "user"; None (default) shows
the stacks the profiler captured. per_process: name each target and task
waker "comm-pid" instead of its comm alone, so processes sharing a name stay
apart; per_thread: "comm-pid/tid" (not both).)";
const std::string kFoldedDoc = "offwaketime -f: one line per chain, for flamegraph.pl." + kFormatArguments;
const std::string kTextDoc =
    "offwaketime's default layout: one block per chain, with its latency histograms\n"
    "under it when profiled with histograms=True." +
    kFormatArguments;

}  // namespace

void bind_profile(py::module_& module) {
    py::class_<CapturedProfile>(module, "Profile", "What a Profiler captured.")
        .def_property_readonly(
            "chains",
            [](const CapturedProfile& c) -> const std::vector<WakeChain>& { return c.profile.chains; },
            "WakeChains sorted by total_ns, ascending (like offwaketime).")
        .def_property_readonly(
            "threads",
            [](const CapturedProfile& c) -> const std::vector<ThreadTotal>& { return c.profile.threads; },
            "ThreadTotals, exact even when stacks are sampled; ascending by total_ns.")
        .def_property_readonly(
            "stack_sample_percent", [](const CapturedProfile& c) { return c.profile.stack_sample_percent; },
            "100, or the share of events whose stacks were taken (chains are then "
            "scaled-up estimates).")
        .def_property_readonly(
            "mode", [](const CapturedProfile& c) { return std::string(to_string(c.profile.mode)); },
            "What each period recorded: 'offwake' (target and waker stacks, the default), "
            "'offcpu' (offcpu=True: target stacks only, no wakers, blocked_ns and runqueue_ns 0) "
            "or 'wakeup' (wakeup=True: waker stacks only, targets named, not walked).")
        .def_property_readonly("losses",
                               [](const CapturedProfile& c) -> const Losses& { return c.profile.losses; })
        .def_property_readonly(
            "duration_ns", [](const CapturedProfile& c) { return c.profile.duration_ns; },
            "start() to stop() (or to now, or since the previous drain()).")
        .def_property_readonly(
            "chain_map_moves", [](const CapturedProfile& c) { return c.profile.chain_map_moves; },
            "Times the kernel's chain map passed half full and its chains were moved to "
            "user space over the same span: the profile grew past max_chains without loss.")
        .def(
            "folded",
            [](const CapturedProfile& c, bool delimiter, const std::optional<std::string>& stacks,
               bool per_process, bool per_thread) {
                return formatted(c, {delimiter, stacks, per_process, per_thread}, format_folded);
            },
            py::kw_only(), py::arg("delimiter") = false, py::arg("stacks") = py::none(),
            py::arg("per_process") = false, py::arg("per_thread") = false, kFoldedDoc.c_str())
        .def(
            "text",
            [](const CapturedProfile& c, bool delimiter, const std::optional<std::string>& stacks,
               bool per_process, bool per_thread) {
                return formatted(c, {delimiter, stacks, per_process, per_thread}, format_text);
            },
            py::kw_only(), py::arg("delimiter") = false, py::arg("stacks") = py::none(),
            py::arg("per_process") = false, py::arg("per_thread") = false, kTextDoc.c_str())
        .def(
            "to_dataframe", [](const CapturedProfile& c) { return profile_to_dataframe(c.profile); },
            "A pandas DataFrame, one row per chain: target_comm, target_tid, target_pid, waker, waker_tid,\n"
            "waker_context, total_us, blocked_us, runqueue_us, max_us, count, and the four stacks\n"
            "(target_kernel_stack, target_user_stack, waker_kernel_stack, waker_user_stack) as\n"
            "\";\"-joined frame names, leaf first; the waker columns describe wakers[0]. Then\n"
            "depth (the number of waker levels), end (WakeChain.end) and waker_path, the levels\n"
            "nearest first (\"relay-2-302 <- relay-1-301 <- [hardirq]\").\n"
            "With histograms=True, estimates from each chain's histograms\n"
            "(WakeChain.percentile_us()): p50_us, p90_us, p99_us of its off-CPU periods (max_us\n"
            "is exact), runqueue_p50_us, runqueue_p90_us, runqueue_p99_us and runqueue_max_us of\n"
            "their runqueue waits; NaN without histograms.\n"
            "\n"
            "One row per chain also with chain_depth > 1, not one per waker level: every\n"
            "off-CPU period is counted in one row, so sums of total_us or blocked_us over\n"
            "any rows (e.g. groupby(\"waker_path\")) stay true, where a row per level would\n"
            "count each period once per level. Per-level detail (stacks, overlap_ns) is in\n"
            "profile.chains[i].wakers. Needs pandas.")
        .def(
            "threads_to_dataframe", [](const CapturedProfile& c) { return threads_to_dataframe(c.profile); },
            "Profile.threads as a pandas DataFrame, one row per thread in the same order\n"
            "(ascending total): tid, pid, comm, total_us, blocked_us, runqueue_us, max_us, count.\n"
            "Exact even when stacks are sampled. Needs pandas.")
        .def("__len__", [](const CapturedProfile& c) { return c.profile.chains.size(); })
        .def("__repr__", [](const CapturedProfile& c) {
            return fmt::format("<Profile {} chains over {:.3f} s, {} lost>", c.profile.chains.size(),
                               double(c.profile.duration_ns) / 1e9, c.profile.losses.total());
        });
}

}  // namespace waketrace::python
