// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace.Profile.pprof(): the chains as a gzipped pprof profile, as
// bytes or written to a file, for `go tool pprof`, Pyroscope or Parca.
// Added to the class bind_profile() made.
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bytes_output.hpp"
#include "format/format.hpp"

#include "captured_profile.hpp"
#include "module_parts.hpp"
#include "option_names.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// Encoding reads an object nobody can change: other Python threads may run
// meanwhile.
py::bytes pprof_bytes(const CapturedProfile& captured, const std::optional<std::string>& stacks) {
    PprofOptions options;
    options.stacks = stacks ? parse_stack_kinds(*stacks) : captured.stacks;
    std::string bytes;
    {
        py::gil_scoped_release unlocked;
        bytes = format_pprof(captured.profile, options);
    }
    return py::bytes(bytes);
}

const char* const kPprofDoc =
    R"(The chains as a pprof profile (gzipped profile.proto, as `go tool pprof`,
Pyroscope and Parca read it): returned as bytes, or, given a path (str or
os.PathLike), written to that file and None returned.

Sample types "periods" (count) and "offcpu" (the default), "blocked",
"runqueue" (nanoseconds). One sample per chain; its frames, innermost
first: the target's, then a "--" frame, the waker's from the wake-up
outward and a frame named for it, and so on for each deeper waker level.
Labels: target_comm, target_tid, pid, waker_context, waker_comm,
waker_tid, waker_pid (waker2_... for the second level). User frames carry
their file's path, build-id and offsets, so a backend can name them again.

stacks: "both", "kernel" or "user"; None (default) keeps the stacks the
profiler captured.)";

}  // namespace

void bind_profile_pprof(py::module_& module) {
    auto profile = py::reinterpret_borrow<py::class_<CapturedProfile>>(module.attr("Profile"));
    profile.def(
        "pprof",
        [](const CapturedProfile& c, const py::object& path, const std::optional<std::string>& stacks)
            -> py::object { return bytes_or_written(pprof_bytes(c, stacks), path); },
        py::arg("path") = py::none(), py::kw_only(), py::arg("stacks") = py::none(), kPprofDoc);
}

}  // namespace waketrace::python
