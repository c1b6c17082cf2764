// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Entry point of the `waketrace` Python module.
#include <pybind11/pybind11.h>

#include "module_parts.hpp"

namespace py = pybind11;

PYBIND11_MODULE(waketrace, module) {
    module.doc() = R"(Why threads were not running, and who woke them (libwaketrace).

    import waketrace
    with waketrace.Profiler(tids=[worker_tid]) as profiler:
        run_workload()
    for chain in profiler.results().chains:
        print(chain.target.comm, chain.wakers[0].name, chain.blocked_ns, chain.count)

Or each off-CPU period as it ends (events=True), while another thread runs the
workload and stops the profiler:

    for event in profiler.events():
        print(event.target.comm, event.waker, event.blocked_ns)

Tracing needs root (or CAP_BPF and CAP_PERFMON). Failures raise ValueError
(bad options), PermissionError (not privileged), ProcessLookupError (no such
pid or tid) or OSError with the errno; the message says what to do.)";
    module.attr("__version__") = WAKETRACE_VERSION;

    waketrace::python::register_error_translator();
    waketrace::python::bind_result_types(module);
    waketrace::python::bind_profile(module);
    waketrace::python::bind_profile_pictures(module);
    waketrace::python::bind_profile_pprof(module);
    waketrace::python::bind_events(module);
    waketrace::python::bind_profiler(module);
    waketrace::python::bind_option_table(module);
}
