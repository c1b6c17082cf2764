// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profiler(events=True): waketrace.OffCpuEvent, and the Profiler methods that
// read events (read_events, events, events_fd) and name their stacks
// (stack_frames, event_stacks). Every wait releases the GIL, in slices, so
// that other Python threads run meanwhile and Ctrl-C ends it.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "format/format.hpp"

#include "bytes_output.hpp"
#include "module_parts.hpp"
#include "option_names.hpp"
#include "python_profiler.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

using Clock = std::chrono::steady_clock;

// The longest wait with the GIL released: Python runs signal handlers only
// in the main thread with the GIL held, so Ctrl-C is noticed between slices.
constexpr int kWaitSliceMs = 100;
// Events the iterator takes from the ring at once.
constexpr size_t kIteratorBatch = 256;
// The most one read_events() returns: the engine reserves room for `max`
// events, and max=sys.maxsize should mean "all there are", not MemoryError.
constexpr size_t kMostPerRead = size_t(1) << 16;
// A timeout beyond this (about 31 years) waits for ever: no clock overflows.
constexpr double kLongestTimeoutS = 1e9;

// timeout= in seconds -> when to stop waiting; None (or a timeout too long
// to matter) -> never.
std::optional<Clock::time_point> deadline_after(std::optional<double> timeout_s) {
    if (!timeout_s)
        return std::nullopt;
    if (std::isnan(*timeout_s) || *timeout_s < 0)
        throw py::value_error("timeout must be None or at least 0 seconds");
    if (*timeout_s > kLongestTimeoutS)
        return std::nullopt;
    return Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*timeout_s));
}

// Raises the engine's ValueError unless the profiler was started with
// events=True (a read of nothing: the engine checks, then takes no event).
void require_events(PythonProfiler& profiler) {
    std::vector<OffCpuEvent> none;
    profiler.read_events(none, 0, 0);
}

// Appends up to `max` events to `out` once at least one waits, waiting until
// `deadline` (nullopt: for ever) or until the profiler has stopped and the
// ring is empty: then returns 0. Called with the GIL held; raises what a
// signal handler raised (KeyboardInterrupt) between slices.
size_t wait_for_events(PythonProfiler& profiler, std::vector<OffCpuEvent>& out, size_t max,
                       std::optional<Clock::time_point> deadline) {
    for (;;) {
        // Looked at before the ring: once detached, no event can follow,
        // so what the ring holds then is all there is.
        const bool attached = profiler.attached();
        int slice_ms = attached ? kWaitSliceMs : 0;
        if (deadline) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            slice_ms = int(std::clamp<int64_t>(left.count(), 0, slice_ms));
        }
        if (const size_t taken = profiler.read_events(out, max, slice_ms))
            return taken;
        if (!attached || (deadline && Clock::now() >= *deadline))
            return 0;
        if (PyErr_CheckSignals() != 0)
            throw py::error_already_set();
    }
}

// The events in a `for` loop: batches read as needed, until the profiler
// has stopped and the ring is empty, or `silence` passes without an event.
// Once ended it stays ended, as iterators do.
class EventIterator {
public:
    // The binding keeps the Profiler alive as long as the iterator (keep_alive).
    EventIterator(PythonProfiler& profiler, std::optional<double> silence_s)
        : profiler_(profiler), silence_s_(silence_s) {
        deadline_after(silence_s_);  // a bad timeout fails here, not at the first event
        require_events(profiler_);
    }

    OffCpuEvent next() {
        if (next_ == batch_.size())
            refill();
        return std::move(batch_[next_++]);
    }

private:
    void refill() {
        if (ended_)
            throw py::stop_iteration();
        // The wait lets other threads in, and batch_ is filled meanwhile:
        // a second next() must not touch it (a generator says the same).
        if (waiting_)
            throw py::value_error("this events() iterator is already waiting in another thread");
        waiting_ = true;
        batch_.clear();
        next_ = 0;
        size_t taken = 0;
        try {
            taken = wait_for_events(profiler_, batch_, kIteratorBatch, deadline_after(silence_s_));
        } catch (...) {
            waiting_ = false;
            throw;
        }
        waiting_ = false;
        if (taken == 0) {
            ended_ = true;
            throw py::stop_iteration();
        }
    }

    PythonProfiler& profiler_;
    const std::optional<double> silence_s_;
    std::vector<OffCpuEvent> batch_;
    size_t next_ = 0;
    bool ended_ = false;
    bool waiting_ = false;  // in refill(), with the GIL released at times
};

std::string task_label(const Task& task) { return fmt::format("{} {}", thread_name(task.comm), task.tid); }

// "wt-py-reader 812 <- wt-py-writer 813", or "<- [hardirq]" as folded output names it.
std::string event_repr(const OffCpuEvent& event) {
    Waker waker;
    waker.context = event.waker_context;
    const std::string waker_label =
        event.waker_context == WakerContext::task ? task_label(event.waker) : waker_name(waker);
    return fmt::format("<OffCpuEvent {} <- {}: total {} us (blocked {}, runqueue {}), state {}, at {} ns>",
                       task_label(event.target), waker_label, event.total_ns() / 1000,
                       event.blocked_ns() / 1000, event.runqueue_ns() / 1000, event.state,
                       event.switch_out_ns);
}

void bind_off_cpu_event(py::module_& module) {
    py::class_<OffCpuEvent>(module, "OffCpuEvent",
                            "One off-CPU period of one thread (Profiler(events=True)), read by\n"
                            "Profiler.read_events() or Profiler.events(). Times are CLOCK_MONOTONIC\n"
                            "nanoseconds, as time.monotonic_ns() reads them (add time.time_ns() -\n"
                            "time.monotonic_ns() for wall-clock time). Stacks are ids: name them with\n"
                            "Profiler.stack_frames() or Profiler.event_stacks().")
        .def_property_readonly(
            "target", [](const OffCpuEvent& e) -> const Task& { return e.target; },
            "The thread that was off CPU (a Task).")
        .def_property_readonly(
            "switch_out_ns", [](const OffCpuEvent& e) { return e.switch_out_ns; }, "When it left the CPU.")
        .def_property_readonly(
            "waking_ns", [](const OffCpuEvent& e) { return e.waking_ns; },
            "When it was woken; 0 when no waking was seen (waker_context \"preempted\"\n"
            "or \"unseen\", or offcpu=True).")
        .def_property_readonly(
            "switch_in_ns", [](const OffCpuEvent& e) { return e.switch_in_ns; }, "When it ran again.")
        .def_property_readonly(
            "state", [](const OffCpuEvent& e) { return e.state; },
            "Its task state at switch-out as the kernel keeps it: 0 runnable (preempted),\n"
            "1 sleeping (S), 2 uninterruptible (D), ...")
        .def_property_readonly(
            "waker_context", [](const OffCpuEvent& e) { return to_string(e.waker_context); },
            "\"task\", \"hardirq\", \"softirq\", \"nmi\", \"preempted\" or \"unseen\", as\n"
            "Waker.context.")
        .def_property_readonly(
            "waker",
            [](const OffCpuEvent& e) -> const Task* {
                return e.waker_context == WakerContext::task ? &e.waker : nullptr;
            },
            "The task that woke the target (a Task), or None unless waker_context is\n"
            "\"task\".")
        .def_property_readonly(
            "waker_outside_filters", [](const OffCpuEvent& e) { return e.waker_outside_filters; },
            "True for a waker the filters (pids, tids, cgroups, threads) do not trace.")
        .def_property_readonly(
            "triggered", [](const OffCpuEvent& e) { return e.triggered; },
            "True when it was off CPU for at least trigger_blocked_ms (decided in the\n"
            "kernel, which then wakes the reader at once).")
        .def_property_readonly(
            "target_kernel_stack", [](const OffCpuEvent& e) { return e.target_kernel_stack; },
            "Stack id: where the target left the CPU. An id < 0 has no frames\n"
            "(waketrace.stack_status() says why).")
        .def_property_readonly("target_user_stack", [](const OffCpuEvent& e) { return e.target_user_stack; })
        .def_property_readonly(
            "waker_kernel_stack", [](const OffCpuEvent& e) { return e.waker_kernel_stack; },
            "Stack id: where the waker was when it woke the target.")
        .def_property_readonly("waker_user_stack", [](const OffCpuEvent& e) { return e.waker_user_stack; })
        .def_property_readonly("total_ns", &OffCpuEvent::total_ns, "switch_in_ns - switch_out_ns.")
        .def_property_readonly("blocked_ns", &OffCpuEvent::blocked_ns,
                               "waking_ns - switch_out_ns; 0 without a waking.")
        .def_property_readonly("runqueue_ns", &OffCpuEvent::runqueue_ns,
                               "switch_in_ns - waking_ns; all of total_ns without a waking.")
        .def("__repr__", [](const OffCpuEvent& e) { return os_string(event_repr(e)); });

    py::class_<EventIterator>(module, "EventIterator", "What Profiler.events() returns: events as they come.")
        .def("__iter__", [](py::object self) { return self; })
        .def("__next__", &EventIterator::next);

    module.def(
        "stack_status", [](StackId id) { return stack_status_name(stack_status(id)); }, py::arg("stack_id"),
        "Why an event's stack id has no frames: \"ok\" for an id >= 0, else \"not_captured\",\n"
        "\"irq_dropped\", \"collision\", \"map_full\" or \"error\" (as Stack.status).");
}

std::vector<OffCpuEvent> read_events(PythonProfiler& profiler, size_t max, std::optional<double> timeout_s) {
    if (max == 0)
        throw py::value_error("max must be at least 1");
    const std::optional<Clock::time_point> deadline = deadline_after(timeout_s);
    std::vector<OffCpuEvent> events;
    wait_for_events(profiler, events, std::min(max, kMostPerRead), deadline);
    return events;
}

// Keyed by the names of the event's stack ids (a dict in Python).
std::map<std::string, std::vector<Frame>> event_stacks(PythonProfiler& profiler, const OffCpuEvent& event) {
    require_events(profiler);
    std::map<std::string, std::vector<Frame>> stacks;
    stacks["target_kernel_stack"] = profiler.event_frames(event.target_kernel_stack, event.target.tgid, true);
    stacks["target_user_stack"] = profiler.event_frames(event.target_user_stack, event.target.tgid, false);
    stacks["waker_kernel_stack"] = profiler.event_frames(event.waker_kernel_stack, event.waker.tgid, true);
    stacks["waker_user_stack"] = profiler.event_frames(event.waker_user_stack, event.waker.tgid, false);
    return stacks;
}

}  // namespace

void bind_events(py::module_& module) { bind_off_cpu_event(module); }

void bind_profiler_events(py::class_<PythonProfiler>& profiler) {
    profiler
        .def("read_events", &read_events, py::arg("max") = 1024, py::arg("timeout") = py::none(),
             "The events that wait, oldest first: a list of at most max (and at most\n"
             "65536) OffCpuEvent. When none waits, waits up to timeout seconds for the\n"
             "first: None (the default) waits until one comes, as queue.Queue.get() does;\n"
             "0 does not wait. Returns [] when the timeout passes, or once the profiler has\n"
             "stopped and every event is read. Other threads run meanwhile; Ctrl-C ends the\n"
             "wait. An event may wait up to 50 ms before a read sees it; events that found\n"
             "the ring full are lost, counted in Profile.losses.off_cpu_events. ValueError\n"
             "unless started with events=True.")
        .def(
            "events",
            [](PythonProfiler& p, std::optional<double> timeout_s) { return EventIterator(p, timeout_s); },
            py::keep_alive<0, 1>(), py::kw_only(), py::arg("timeout") = py::none(),
            "An iterator over the events as they come:\n\n"
            "    for event in profiler.events():\n"
            "        print(event.target.comm, event.blocked_ns)\n\n"
            "It ends once the profiler has stopped (by stop() from another thread, or\n"
            "the with-block's end) and every event is read, or after timeout seconds\n"
            "without an event (None, the default: no such limit). Other threads run\n"
            "while it waits; Ctrl-C ends the wait. ValueError unless started with\n"
            "events=True.")
        .def(
            "events_fd",
            [](PythonProfiler& p) {
                require_events(p);
                return p.events_fd();
            },
            "A file descriptor that polls readable when a batch of events waits, for\n"
            "selectors or asyncio's add_reader(): then call read_events(timeout=0). Single\n"
            "events do not wake it: read every 50 ms or so too. It stays valid until the\n"
            "next start(). ValueError unless started with events=True.")
        .def(
            "stack_frames",
            [](PythonProfiler& p, StackId stack_id, uint32_t tgid, bool kernel) {
                require_events(p);
                return p.event_frames(stack_id, tgid, kernel);
            },
            py::arg("stack_id"), py::arg("tgid"), py::arg("kernel"),
            "The frames (a list of Frame, innermost first) of a stack id of an event\n"
            "read so far: tgid is the pid of the event's target (or waker) for a user\n"
            "stack, ignored for a kernel stack. [] for an id < 0 or one no event named.\n"
            "Symbolizes with the GIL released.")
        .def(
            "perfetto_trace",
            [](PythonProfiler& p, std::vector<OffCpuEvent> events, const py::object& path) -> py::object {
                require_events(p);
                return bytes_or_written(py::bytes(p.perfetto_trace(std::move(events))), path);
            },
            py::arg("events"), py::arg("path") = py::none(),
            "Events read from this profiler as a Perfetto trace, for ui.perfetto.dev\n"
            "and trace processor (what waketrace --perfetto writes): a track per thread\n"
            "with its blocked, runnable and running slices, an arrow from each waker,\n"
            "the stacks named. Returns the bytes, or writes them to path and returns\n"
            "None. ValueError unless started with events=True.")
        .def("event_stacks", &event_stacks, py::arg("event"),
             "The four stacks of an event, named: a dict from \"target_kernel_stack\",\n"
             "\"target_user_stack\", \"waker_kernel_stack\" and \"waker_user_stack\" to a list\n"
             "of Frame, innermost first ([] for a stack not captured).");
}

}  // namespace waketrace::python
