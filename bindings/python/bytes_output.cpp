// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bytes_output.hpp"

namespace py = pybind11;

namespace waketrace::python {

py::object bytes_or_written(py::bytes bytes, const py::object& path) {
    if (path.is_none())
        return std::move(bytes);
    py::object file = py::module_::import("builtins").attr("open")(path, "wb");
    try {
        file.attr("write")(bytes);
    } catch (...) {
        file.attr("close")();
        throw;
    }
    file.attr("close")();
    return py::none();
}

}  // namespace waketrace::python
