// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profiler: keyword options (config_from_python.hpp), start/stop/results/drain with the GIL
// released (they load BPF and symbolize: other Python threads, the workload
// among them, must keep running), and the context manager protocol.
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>

#include "captured_profile.hpp"
#include "config_from_python.hpp"
#include "keyword_doc.hpp"
#include "module_parts.hpp"
#include "profiler_engine.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// The C++ Profiler wants one caller at a time; with the GIL released, two
// Python threads could otherwise be inside it at once.
class PythonProfiler {
public:
    explicit PythonProfiler(Config config)
        : stacks_(config.stacks), profiler_(std::make_unique<detail::ProfilerEngine>(std::move(config))) {}
    // Python frees this with the GIL held, but the Profiler's end joins its
    // threads, and one of them may be waiting for the GIL to log: let go of
    // it first.
    ~PythonProfiler() {
        py::gil_scoped_release gil_released;
        std::lock_guard<std::mutex> one_caller(mutex_);
        profiler_.reset();
    }
    PythonProfiler(const PythonProfiler&) = delete;
    PythonProfiler& operator=(const PythonProfiler&) = delete;

    void start();
    void stop();
    bool running();
    CapturedProfile results();
    CapturedProfile drain();

private:
    // Drop the GIL before waiting for the mutex: the log callback takes the
    // GIL while the mutex is held, so a waiter holding it would deadlock.
    template <typename Call>
    auto without_gil(Call call) {
        py::gil_scoped_release gil_released;
        std::lock_guard<std::mutex> one_caller(mutex_);
        return call(*profiler_);
    }

    const StackKinds stacks_;
    std::mutex mutex_;
    std::unique_ptr<detail::ProfilerEngine> profiler_;
};

void PythonProfiler::start() {
    without_gil([](detail::ProfilerEngine& p) { p.start(); });
}
void PythonProfiler::stop() {
    without_gil([](detail::ProfilerEngine& p) { p.stop(); });
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

std::unique_ptr<PythonProfiler> make_profiler(const py::kwargs& keywords) {
    return std::make_unique<PythonProfiler>(config_from_python(keywords));
}

}  // namespace

void bind_profiler(py::module_& module) {
    // pybind11 keeps the pointer: the text must outlive the module.
    static const std::string doc = profiler_doc();
    py::class_<PythonProfiler>(module, "Profiler", doc.c_str())
        .def(py::init(&make_profiler))
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
}

}  // namespace waketrace::python
