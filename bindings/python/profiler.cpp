// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profiler: keyword options, start/stop/results/drain with the GIL
// released (they load BPF and symbolize: other Python threads, the workload
// among them, must keep running), and the context manager protocol.
#include <pybind11/stl.h>

#include <memory>
#include <mutex>

#include "captured_profile.hpp"
#include "config_from_python.hpp"
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

void PythonProfiler::start() { without_gil([](detail::ProfilerEngine& p) { p.start(); }); }
void PythonProfiler::stop() { without_gil([](detail::ProfilerEngine& p) { p.stop(); }); }
bool PythonProfiler::running() { return without_gil([](detail::ProfilerEngine& p) { return p.running(); }); }

CapturedProfile PythonProfiler::results() {
    return without_gil([this](detail::ProfilerEngine& p) { return CapturedProfile{p.results(), stacks_}; });
}

CapturedProfile PythonProfiler::drain() {
    return without_gil([this](detail::ProfilerEngine& p) { return CapturedProfile{p.drain(), stacks_}; });
}

std::unique_ptr<PythonProfiler> make_profiler(std::optional<std::vector<long long>> pids,
                                              std::optional<std::vector<long long>> tids, std::string threads,
                                              std::string stacks, std::optional<long long> state_mask,
                                              long long min_block_us, std::optional<long long> max_block_us,
                                              long long stack_storage_size, long long max_chains,
                                              long long max_off_cpu_threads, std::string attach,
                                              long long stack_sample_percent, long long dwarf_stack_bytes,
                                              long long dwarf_ring_bytes,
                                              py::object log) {
    ConfigArguments arguments{std::move(pids), std::move(tids), std::move(threads), std::move(stacks),
                              state_mask, min_block_us, max_block_us, stack_storage_size, max_chains,
                              max_off_cpu_threads, std::move(attach), stack_sample_percent, dwarf_stack_bytes,
                              dwarf_ring_bytes,
                              std::move(log)};
    return std::make_unique<PythonProfiler>(config_from_python(arguments));
}

constexpr const char* kProfilerDoc = R"(Profiles off-CPU time and wakeups.

Profiler(*, pids=None, tids=None, threads="all", stacks="both",
         state_mask=None, min_block_us=1, max_block_us=None,
         stack_storage_size=16384, max_chains=16384,
         max_off_cpu_threads=16384, attach="auto", stack_sample_percent=100,
         dwarf_stack_bytes=0, dwarf_ring_bytes=0, log=None)

pids / tids: profile only these processes / threads (None: all).
threads: "all", "user" (no kernel threads) or "kernel".
stacks: "both", "kernel" or "user".
state_mask: offwaketime --state (0: only preemptions; 2: uninterruptible).
min_block_us / max_block_us: keep off-CPU periods within these bounds.
stack_storage_size, max_chains, max_off_cpu_threads: kernel map sizes;
    what does not fit is counted in Profile.losses (stack_map_full,
    chain_map_full, missed_switch_outs / thread_map_full): raise the
    keyword that sized the map, e.g. max_chains=65536.
attach: "auto", "tp_btf" or "raw_tp".
stack_sample_percent: take stacks for this share (1-100) of blocking events;
    below 100 every event is still timed (Profile.threads stays exact) and
    chain times are scaled-up estimates.
dwarf_stack_bytes: 0 walks user stacks by frame pointers; N (a multiple of
    1024 up to 16384; 8192 is a good start) copies N bytes of each user stack
    and unwinds them with the binaries' CFI, naming callers of code built
    without frame pointers (libc) at a higher cost.
dwarf_ring_bytes: the ring buffer carrying those copies to the unwinding
    thread: a power of two number of pages up to 1 GiB; 0 sizes it for the
    machine (4096 copies per CPU, at least 8192, at most 32 MiB). Copies that
    find it full are counted in Profile.losses (user_stack_events,
    period_events): raise it for bursts.
log: callable(level, message) for profiler, verifier and libbpf messages,
    called from whichever thread is inside the profiler. Without it they are
    dropped: libbpf's never reach standard error.

Bad options raise ValueError here; nothing touches the kernel until start().
As a context manager it starts on entry and stops on exit; results stay
readable afterwards.)";

}  // namespace

void bind_profiler(py::module_& module) {
    py::class_<PythonProfiler>(module, "Profiler", kProfilerDoc)
        .def(py::init(&make_profiler), py::kw_only(), py::arg("pids") = py::none(),
             py::arg("tids") = py::none(), py::arg("threads") = "all", py::arg("stacks") = "both",
             py::arg("state_mask") = py::none(), py::arg("min_block_us") = 1,
             py::arg("max_block_us") = py::none(), py::arg("stack_storage_size") = 16384,
             py::arg("max_chains") = 16384, py::arg("max_off_cpu_threads") = 16384, py::arg("attach") = "auto",
             py::arg("stack_sample_percent") = 100, py::arg("dwarf_stack_bytes") = 0,
             py::arg("dwarf_ring_bytes") = 0,
             py::arg("log") = py::none())
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
        .def("__enter__", [](py::object self) {
            self.cast<PythonProfiler&>().start();
            return self;
        })
        .def("__exit__", [](PythonProfiler& profiler, const py::args&) {
            profiler.stop();
            return false;  // exceptions from the with-block propagate
        })
        .def("__repr__", [](PythonProfiler& profiler) {
            return profiler.running() ? "<Profiler running>" : "<Profiler stopped>";
        });
}

}  // namespace waketrace::python
