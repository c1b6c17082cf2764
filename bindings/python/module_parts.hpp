// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The parts of the `waketrace` Python module, one source file each;
// module.cpp puts them together in the order Python needs (result types
// before the classes whose methods return them).
#pragma once

#include <pybind11/pybind11.h>

namespace waketrace::python {

class PythonProfiler;  // python_profiler.hpp

void register_error_translator();                       // errors.cpp
void bind_result_types(pybind11::module_& module);      // result_types.cpp: Frame .. Losses
void bind_profile(pybind11::module_& module);           // profile.cpp
void bind_profile_pictures(pybind11::module_& module);  // profile_pictures.cpp: flamegraph(), notebooks
void bind_profile_pprof(pybind11::module_& module);     // profile_pprof.cpp: pprof()
void bind_events(pybind11::module_& module);            // events.cpp: OffCpuEvent, stack_status()
void bind_profiler(pybind11::module_& module);          // profiler.cpp
// events.cpp: Profiler.read_events(), events() ..., called by bind_profiler().
void bind_profiler_events(pybind11::class_<PythonProfiler>& profiler);
void bind_option_table(pybind11::module_& module);  // keyword_doc.cpp: _option_table()

}  // namespace waketrace::python
