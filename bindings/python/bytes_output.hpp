// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Methods that make a file's bytes (Profile.pprof(), Profiler.perfetto_trace())
// return them, or write them to a path the way Python would.
#pragma once

#include <pybind11/pybind11.h>

namespace waketrace::python {

// `bytes` when `path` is None; else writes them with Python's own open()
// (str, bytes and os.PathLike paths, and its OSError) and returns None.
pybind11::object bytes_or_written(pybind11::bytes bytes, const pybind11::object& path);

}  // namespace waketrace::python
