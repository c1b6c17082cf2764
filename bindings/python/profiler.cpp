// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profiler: keyword options (config_from_python.hpp), start/stop/results/drain with the GIL
// released (they load BPF and symbolize: other Python threads, the workload
// among them, must keep running), and the context manager protocol. The
// event methods are events.cpp's.
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>

#include "config_from_python.hpp"
#include "keyword_doc.hpp"
#include "module_parts.hpp"
#include "python_profiler.hpp"

namespace py = pybind11;

namespace waketrace::python {

PythonProfiler::PythonProfiler(Config config)
    : stacks_(config.stacks), profiler_(std::make_unique<detail::ProfilerEngine>(std::move(config))) {}

PythonProfiler::~PythonProfiler() {
    py::gil_scoped_release gil_released;
    std::lock_guard<std::mutex> one_caller(mutex_);
    std::lock_guard<std::mutex> no_reader(events_mutex_);
    profiler_.reset();
}

void PythonProfiler::start() {
    py::gil_scoped_release gil_released;
    std::lock_guard<std::mutex> one_caller(mutex_);
    // start() replaces the engine's event stream: no reader meanwhile.
    std::lock_guard<std::mutex> no_reader(events_mutex_);
    profiler_->start();
    attached_ = true;
}
void PythonProfiler::stop() {
    without_gil([this](detail::ProfilerEngine& p) {
        p.stop();
        attached_ = false;
    });
}
bool PythonProfiler::running() {
    return without_gil([](detail::ProfilerEngine& p) { return p.running(); });
}

CapturedProfile PythonProfiler::results() {
    return without_gil([this](detail::ProfilerEngine& p) { return CapturedProfile{p.results(), stacks_}; });
}

CapturedProfile PythonProfiler::drain() {
    return without_gil([this](detail::ProfilerEngine& p) { return CapturedProfile{p.drain(), stacks_}; });
}

size_t PythonProfiler::read_events(std::vector<OffCpuEvent>& out, size_t max, int timeout_ms) {
    return events_without_gil([&](detail::ProfilerEngine& p) { return p.read_events(out, max, timeout_ms); });
}

int PythonProfiler::events_fd() {
    return events_without_gil([](detail::ProfilerEngine& p) { return p.events_fd(); });
}

std::vector<Frame> PythonProfiler::event_frames(StackId id, uint32_t tgid, bool kernel) {
    return events_without_gil([&](detail::ProfilerEngine& p) { return p.event_frames(id, tgid, kernel); });
}

std::string PythonProfiler::perfetto_trace(std::vector<OffCpuEvent> events) {
    return events_without_gil([&](detail::ProfilerEngine& p) { return p.perfetto_trace(std::move(events)); });
}

namespace {

std::unique_ptr<PythonProfiler> make_profiler(const py::kwargs& keywords) {
    return std::make_unique<PythonProfiler>(config_from_python(keywords));
}

}  // namespace

void bind_profiler(py::module_& module) {
    // pybind11 keeps the pointer: the text must outlive the module.
    static const std::string doc = profiler_doc();
    py::class_<PythonProfiler> profiler(module, "Profiler", doc.c_str());
    profiler.def(py::init(&make_profiler))
        .def("start", &PythonProfiler::start,
             "Loads and attaches the BPF program. PermissionError without CAP_BPF and CAP_PERFMON,\n"
             "ProcessLookupError for a pid or tid that does not exist, OSError otherwise.")
        .def("stop", &PythonProfiler::stop, "Detaches. Idempotent; results() stays readable.")
        .def("results", &PythonProfiler::results,
             "What was captured so far (a snapshot while running). ValueError before start().")
        .def("drain", &PythonProfiler::drain,
             "Like results(), then forgets the chains returned: the next drain() returns only what\n"
             "came after, with losses and duration since this one.")
        .def_property_readonly("running", &PythonProfiler::running)
        .def("__enter__",
             [](py::object self) {
                 self.cast<PythonProfiler&>().start();
                 return self;
             })
        .def("__exit__",
             [](PythonProfiler& profiler, const py::args&) {
                 profiler.stop();
                 return false;  // exceptions from the with-block propagate
             })
        .def("__repr__", [](PythonProfiler& profiler) {
            return profiler.running() ? "<Profiler running>" : "<Profiler stopped>";
        });
    bind_profiler_events(profiler);
}

}  // namespace waketrace::python
