// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Frame, Stack, Task, Waker, WakeChain and Losses: read-only views of the C++
// structs. Getters return references into the owning Profile (pybind11's
// reference_internal), which stays alive as long as any view of it does.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <optional>
#include <string>

#include "format/format.hpp"

#include "module_parts.hpp"
#include "option_names.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// Shown in a Stack's repr: enough frames to recognise it at a glance.
constexpr size_t kFramesInRepr = 3;

std::string stack_summary(const Stack& stack) {
    if (stack.status != StackStatus::ok)
        return stack.error != 0 ? fmt::format("{} (error {})", stack_status_name(stack.status), stack.error)
                                : std::string(stack_status_name(stack.status));
    std::string names;
    for (size_t i = 0; i < stack.frames.size() && i < kFramesInRepr; ++i)
        names += (i ? ";" : "") + frame_name(stack.frames[i]);
    if (stack.frames.size() > kFramesInRepr)
        names += ";...";
    return fmt::format("{} frames: {}", stack.frames.size(), names);
}

std::string task_summary(const Task& task) {
    return fmt::format("{} tid={} pid={}", thread_name(task.comm), task.tid, task.tgid);
}

void bind_frame(py::module_& module) {
    py::class_<Frame>(module, "Frame", "One stack frame; symbol is None when unresolved.")
        .def_property_readonly("address", [](const Frame& f) { return f.address; })
        .def_property_readonly(
            "symbol",
            [](const Frame& f) -> std::optional<py::str> {
                if (!f.resolved())
                    return std::nullopt;
                return os_string(f.symbol);
            },
            "Demangled symbol, or None.")
        .def_property_readonly(
            "module", [](const Frame& f) { return os_string(f.module); },
            "File path, \"[kernel]\" or a kernel module name.")
        .def_property_readonly(
            "offset", [](const Frame& f) { return f.offset; },
            "address minus the symbol's start, when resolved.")
        .def_property_readonly(
            "file",
            [](const Frame& f) -> std::optional<py::str> {
                if (f.file.empty())
                    return std::nullopt;
                return os_string(f.file);
            },
            "Source file from DWARF debug info, or None.")
        .def_property_readonly(
            "line", [](const Frame& f) { return f.line; }, "Source line; 0 when unknown.")
        .def_property_readonly(
            "inlined", [](const Frame& f) { return f.inlined; },
            "True for a function inlined into the next (outer) frame.")
        .def_property_readonly(
            "file_offset", [](const Frame& f) { return f.file_offset; },
            "Where the address lies in module's file (user frames of mapped files), or None.")
        .def_property_readonly(
            "build_id",
            [](const Frame& f) -> std::optional<std::string> {
                if (f.build_id.empty())
                    return std::nullopt;
                return f.build_id;
            },
            "The GNU build-id of module's file, lower-case hex, or None.")
        .def_property_readonly(
            "name", [](const Frame& f) { return os_string(frame_name(f)); },
            "The symbol, or \"[unknown]\" (as the formats print it; \"_[i]\" marks\n"
            "an inlined frame).")
        .def("__repr__", [](const Frame& f) {
            const std::string where =
                f.resolved() ? fmt::format("{}+{:#x}", f.symbol, f.offset) : frame_name(f);
            return os_string(fmt::format("<Frame {} in {} at {:#x}>", where, f.module, f.address));
        });
}

void bind_stack(py::module_& module) {
    py::class_<Stack>(module, "Stack", "A captured stack, or why there is none.")
        .def_property_readonly(
            "status", [](const Stack& s) { return stack_status_name(s.status); },
            "\"ok\", \"not_captured\", \"irq_dropped\", \"collision\", \"map_full\" "
            "or \"error\".")
        .def_property_readonly(
            "error", [](const Stack& s) { return s.error; },
            "The kernel's -errno when status is collision, map_full or error.")
        .def_property_readonly(
            "frames", [](const Stack& s) -> const std::vector<Frame>& { return s.frames; },
            "Frames, innermost (leaf) first.")
        .def("__repr__", [](const Stack& s) { return os_string("<Stack " + stack_summary(s) + ">"); });
}

void bind_task(py::module_& module) {
    py::class_<Task>(module, "Task", "A thread: tid, pid (its process, the tgid) and comm.")
        .def_property_readonly("tid", [](const Task& t) { return t.tid; })
        .def_property_readonly(
            "pid", [](const Task& t) { return t.tgid; }, "The process id (tgid).")
        .def_property_readonly(
            "tgid", [](const Task& t) { return t.tgid; }, "Same as pid.")
        .def_property_readonly(
            "comm", [](const Task& t) { return py::str(thread_name(t.comm)); },
            "The thread's name; bytes that are not UTF-8 read as U+FFFD, as in\n"
            "every output (folded(), text(), to_dataframe(), the waketrace command).")
        .def("__repr__", [](const Task& t) { return os_string("<Task " + task_summary(t) + ">"); });
}

void bind_waker(py::module_& module) {
    py::class_<Waker>(module, "Waker",
                      "What woke the target (or, deeper, the waker below): a task, or an interrupt context.")
        .def_property_readonly(
            "context", [](const Waker& w) { return to_string(w.context); },
            "\"task\", \"hardirq\", \"softirq\", \"nmi\", \"preempted\" or \"unseen\".")
        .def_property_readonly(
            "task", [](const Waker& w) -> const Task& { return w.task; },
            "The waking task; tid 0 and empty comm unless context is \"task\".")
        .def_property_readonly(
            "kernel_stack", [](const Waker& w) -> const Stack& { return w.kernel_stack; },
            "Where it was when it woke the level below (the target, for wakers[0]).")
        .def_property_readonly("user_stack", [](const Waker& w) -> const Stack& { return w.user_stack; })
        .def_property_readonly(
            "blocked_kernel_stack", [](const Waker& w) -> const Stack& { return w.blocked_kernel_stack; },
            "chain_depth > 1: where this waker had itself blocked, the wait the next\n"
            "level (wakers[i + 1]) ended; status \"not_captured\" when there is none.")
        .def_property_readonly(
            "blocked_user_stack", [](const Waker& w) -> const Stack& { return w.blocked_user_stack; },
            "The user half of blocked_kernel_stack's wait.")
        .def_property_readonly(
            "overlap_ns", [](const Waker& w) { return w.overlap_ns; },
            "How much of the target's blocked time (WakeChain.blocked_ns) the wait this\n"
            "waker ended overlapped: blocked_ns itself for wakers[0], the wait of\n"
            "wakers[i - 1] for wakers[i]. Its share of blocked_ns is that hop's part of\n"
            "the critical path.")
        .def_property_readonly(
            "outside_filters", [](const Waker& w) { return w.outside_filters; },
            "True for a task the filters (pids, tids, cgroups, threads) do not trace: it\n"
            "still woke the level below. Always False without a filter.")
        .def_property_readonly(
            "name", [](const Waker& w) { return os_string(waker_name(w)); },
            "The comm, or \"[hardirq]\", \"[preempted]\" ... as in folded output.")
        .def("__repr__", [](const Waker& w) {
            if (w.context != WakerContext::task)
                return os_string(fmt::format("<Waker {}>", waker_name(w)));
            return os_string("<Waker " + task_summary(w.task) + ">");
        });
}

void bind_latency_histogram(py::module_& module) {
    py::class_<LatencyHistogram>(module, "LatencyHistogram",
                                 "How a chain's periods spread (Profiler(histograms=True)): log2 buckets in\n"
                                 "microseconds, as runqlat keeps them. Bucket 0 counts periods under 1 us,\n"
                                 "bucket i (1-26) those from 2**(i-1) us up to 2**i us (excluded), the last\n"
                                 "(27) those of 2**26 us (about 67 s) and more; bounds_us lists them.")
        .def_property_readonly(
            "off_cpu",
            [](const LatencyHistogram& h) {
                return std::vector<uint64_t>(h.off_cpu.begin(), h.off_cpu.end());
            },
            "Periods per bucket by their off-CPU time (WakeChain.total_ns).")
        .def_property_readonly(
            "runqueue",
            [](const LatencyHistogram& h) {
                return std::vector<uint64_t>(h.runqueue.begin(), h.runqueue.end());
            },
            "Periods per bucket by their runqueue wait (WakeChain.runqueue_ns).")
        .def_property_readonly("count", &LatencyHistogram::count,
                               "Periods counted; WakeChain.count once the profiler has stopped.")
        .def_property_readonly(
            "bounds_us",
            [](const LatencyHistogram&) {
                py::list bounds;
                for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
                    const uint64_t high = LatencyHistogram::high_us(i);
                    bounds.append(py::make_tuple(LatencyHistogram::low_us(i), high == UINT64_MAX
                                                                                  ? py::object(py::none())
                                                                                  : py::int_(high)));
                }
                return bounds;
            },
            "(low, high) microseconds of each bucket: low <= period < high; high is\n"
            "None for the last.")
        .def("__repr__", [](const LatencyHistogram& h) {
            return fmt::format("<LatencyHistogram {} periods>", h.count());
        });
}

void bind_wake_chain(py::module_& module) {
    bind_latency_histogram(module);
    py::class_<WakeChain>(module, "WakeChain",
                          "Off-CPU time of one target, summed per (target stacks, waker stacks).")
        .def_property_readonly("target", [](const WakeChain& c) -> const Task& { return c.target; })
        .def_property_readonly(
            "kernel_stack", [](const WakeChain& c) -> const Stack& { return c.kernel_stack; },
            "The target's kernel stack where it went off CPU.")
        .def_property_readonly("user_stack", [](const WakeChain& c) -> const Stack& { return c.user_stack; })
        .def_property_readonly(
            "wakers", [](const WakeChain& c) -> const std::vector<Waker>& { return c.wakers; },
            "wakers[0] woke the target; wakers[i + 1] woke wakers[i] while the target\n"
            "waited (up to chain_depth levels).")
        .def_property_readonly(
            "end", [](const WakeChain& c) { return chain_end_name(c.end); },
            "Why the chain has no deeper level: \"complete\" (the last waker was not\n"
            "waiting: running, an interrupt, or none; always so with chain_depth 1),\n"
            "\"depth_reached\" (chain_depth levels shown, deeper wakers not traced),\n"
            "\"waker_untraced\" (the last waker's wait is outside the filters) or\n"
            "\"waker_lost\" (its wait was lost: see Losses.chain_states_full,\n"
            "hop_map_full, hop_collisions).")
        .def_property_readonly(
            "total_ns", [](const WakeChain& c) { return c.total_ns; }, "Off CPU: switch-out to switch-in.")
        .def_property_readonly(
            "blocked_ns", [](const WakeChain& c) { return c.blocked_ns; }, "Switch-out to waking.")
        .def_property_readonly(
            "runqueue_ns", [](const WakeChain& c) { return c.runqueue_ns; },
            "Waking to switch-in (all of total when preempted).")
        .def_property_readonly(
            "max_ns", [](const WakeChain& c) { return c.max_ns; }, "The longest single off-CPU period.")
        .def_property_readonly(
            "count", [](const WakeChain& c) { return c.count; }, "Off-CPU periods summed here.")
        .def_property_readonly(
            "histogram", [](const WakeChain& c) -> const LatencyHistogram& { return c.histogram; },
            "Log2 histograms of the periods and their runqueue waits (a LatencyHistogram);\n"
            "all zero unless profiled with histograms=True.")
        .def(
            "percentile_us",
            [](const WakeChain& c, double percent, bool runqueue) {
                if (!(percent >= 0 && percent <= 100))
                    throw py::value_error("percent must be 0 to 100");
                return chain_quantile_us(c, percent / 100.0, runqueue);
            },
            py::arg("percent"), py::kw_only(), py::arg("runqueue") = false,
            "An estimate from the histogram of the off-CPU periods (or, runqueue=True,\n"
            "of the runqueue waits): the percent-th percentile in microseconds, exact\n"
            "to within its bucket (periods taken as spread evenly through it) and at\n"
            "most max_ns. None without histograms. to_dataframe()'s p50_us ... columns.")
        .def("__repr__", [](const WakeChain& c) {
            std::string waker = c.wakers.empty() ? "nobody" : waker_name(c.wakers[0]);
            for (size_t level = 1; level < c.wakers.size(); ++level)
                waker += " <- " + waker_name(c.wakers[level]);
            if (c.end != ChainEnd::complete)
                waker += " <- " + chain_end_marker(c.end);
            return os_string(
                fmt::format("<WakeChain {} {} <- {}: total {} us (blocked {}, runqueue {}) in {}>",
                            thread_name(c.target.comm), c.target.tid, waker, c.total_ns / 1000,
                            c.blocked_ns / 1000, c.runqueue_ns / 1000, c.count));
        });
}

void bind_losses(py::module_& module) {
    py::class_<Losses>(module, "Losses", "Everything that did not make it into the results, per cause.")
        .def_property_readonly(
            "stack_collisions", [](const Losses& l) { return l.stack_collisions; },
            "Stacks lost because another stack's frames hashed to the same id.")
        .def_property_readonly(
            "stack_map_full", [](const Losses& l) { return l.stack_map_full; },
            "Stacks lost to a full stack map (raise stack_storage_size).")
        .def_property_readonly("stack_errors", [](const Losses& l) { return l.stack_errors; })
        .def_property_readonly(
            "chain_map_full", [](const Losses& l) { return l.chain_map_full; },
            "Off-CPU periods lost to a full chain map (raise max_chains).")
        .def_property_readonly(
            "missed_switch_outs", [](const Losses& l) { return l.missed_switch_outs; },
            "Off-CPU periods lost: too many traced threads at once "
            "(raise max_off_cpu_threads).")
        .def_property_readonly(
            "process_events", [](const Losses& l) { return l.process_events; },
            "New processes not announced in time (may lose symbols).")
        .def_property_readonly(
            "thread_map_full", [](const Losses& l) { return l.thread_map_full; },
            "Off-CPU periods missing from Profile.threads (stack sampling; "
            "raise max_off_cpu_threads).")
        .def_property_readonly(
            "user_stack_events", [](const Losses& l) { return l.user_stack_events; },
            "dwarf_stack_bytes mode: user stacks lost to a full ring buffer "
            "(raise dwarf_ring_bytes).")
        .def_property_readonly(
            "missed_switch_ins", [](const Losses& l) { return l.missed_switch_ins; },
            "Off-CPU periods lost: the kernel did not report the switch back in.")
        .def_property_readonly(
            "skipped_runs", [](const Losses& l) { return l.skipped_runs; },
            "BPF program runs the kernel skipped (another BPF program was running).")
        .def_property_readonly(
            "period_events", [](const Losses& l) { return l.period_events; },
            "dwarf_stack_bytes mode: off-CPU periods lost to a full ring buffer "
            "(raise dwarf_ring_bytes).")
        .def_property_readonly(
            "chain_states_full", [](const Losses& l) { return l.chain_states_full; },
            "chain_depth > 1: waker levels lost because a thread's last wait did not fit\n"
            "(raise max_off_cpu_threads); each ended a chain early (end \"waker_lost\").")
        .def_property_readonly(
            "hop_map_full", [](const Losses& l) { return l.hop_map_full; },
            "chain_depth > 1: waker levels lost to a full hop map (raise max_hops).")
        .def_property_readonly(
            "hop_collisions", [](const Losses& l) { return l.hop_collisions; },
            "chain_depth > 1: waker levels lost because another level is stored under\n"
            "the same id (a hash).")
        .def_property_readonly(
            "untraced_children", [](const Losses& l) { return l.untraced_children; },
            "follow_children: child processes not traced because the pid filter was full.")
        .def_property_readonly(
            "histogram_map_full", [](const Losses& l) { return l.histogram_map_full; },
            "histograms: periods missing from their chain's histogram (its map was\n"
            "full; raise max_chains). They are still in the chain's times.")
        .def_property_readonly(
            "off_cpu_events", [](const Losses& l) { return l.off_cpu_events; },
            "events: events lost because their ring buffer was full (the reader fell\n"
            "behind; raise events_ring_bytes). The periods are still in the chains.")
        .def_property_readonly("total", &Losses::total)
        .def("__repr__", [](const Losses& l) {
            return fmt::format(
                "<Losses total={} stack_collisions={} stack_map_full={} stack_errors={} "
                "chain_map_full={} missed_switch_outs={} process_events={} thread_map_full={} "
                "user_stack_events={} period_events={} missed_switch_ins={} skipped_runs={} "
                "chain_states_full={} hop_map_full={} hop_collisions={} untraced_children={} "
                "histogram_map_full={} off_cpu_events={}>",
                l.total(), l.stack_collisions, l.stack_map_full, l.stack_errors, l.chain_map_full,
                l.missed_switch_outs, l.process_events, l.thread_map_full, l.user_stack_events,
                l.period_events, l.missed_switch_ins, l.skipped_runs, l.chain_states_full, l.hop_map_full,
                l.hop_collisions, l.untraced_children, l.histogram_map_full, l.off_cpu_events);
        });
}

void bind_thread_total(py::module_& module) {
    py::class_<ThreadTotal>(module, "ThreadTotal", "One target thread's off-CPU time, whatever its stacks.")
        .def_property_readonly("task", [](const ThreadTotal& t) -> const Task& { return t.task; })
        .def_property_readonly("total_ns", [](const ThreadTotal& t) { return t.total_ns; })
        .def_property_readonly("blocked_ns", [](const ThreadTotal& t) { return t.blocked_ns; })
        .def_property_readonly("runqueue_ns", [](const ThreadTotal& t) { return t.runqueue_ns; })
        .def_property_readonly("max_ns", [](const ThreadTotal& t) { return t.max_ns; })
        .def_property_readonly("count", [](const ThreadTotal& t) { return t.count; })
        .def("__repr__", [](const ThreadTotal& t) {
            return os_string(fmt::format("<ThreadTotal {} {}: total {} us (blocked {}, runqueue {}) in {}>",
                                         thread_name(t.task.comm), t.task.tid, t.total_ns / 1000,
                                         t.blocked_ns / 1000, t.runqueue_ns / 1000, t.count));
        });
}

}  // namespace

void bind_result_types(py::module_& module) {
    bind_frame(module);
    bind_stack(module);
    bind_task(module);
    bind_waker(module);
    bind_wake_chain(module);
    bind_losses(module);
    bind_thread_total(module);
}

}  // namespace waketrace::python
