// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Config::log from a Python callable log(level: str, message: str).
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <string_view>

#include <waketrace/config.hpp>

namespace waketrace::python {

using LogFunction = std::function<void(LogLevel, std::string_view)>;

// None gives an empty function (messages dropped); anything else must be
// callable (TypeError otherwise). The library calls the result from
// start()/results() while the GIL is released, and copies and destroys it
// freely: the function takes the GIL for every touch of the Python object.
// An exception raised by the callable is reported as unraisable (like an
// exception in __del__) rather than thrown through the library.
LogFunction python_log_callback(pybind11::object callable);

}  // namespace waketrace::python
