// SPDX-License-Identifier: LGPL-2.1-or-later
//
// waketrace::Error -> the Python exception for its errno, keeping the
// library's message (it says what to do, in keyword names) and, for OSError,
// the errno, which Python prints itself ("[Errno 24] ...").
#include <Python.h>

#include <cerrno>
#include <string>

#include <waketrace/error.hpp>

#include "module_parts.hpp"

namespace waketrace::python {
namespace {

PyObject* exception_type_for(int errno_value) {
    switch (errno_value) {
    case EINVAL: return PyExc_ValueError;
    case EPERM:
    case EACCES: return PyExc_PermissionError;
    case ESRCH: return PyExc_ProcessLookupError;
    default: return PyExc_OSError;  // ENOTSUP (no BTF), EBUSY, libbpf errors
    }
}

// The library's message; an option it names by its Config member is named
// as the keyword argument, which has the same name.
std::string python_message(const Error& error) {
    std::string text = error.message();
    if (const auto& hint = error.hint())
        text += " (pass " + hint->option + "=... " + hint->purpose + ")";
    return text;
}

void raise_python_error(const Error& error) {
    // Messages may quote paths or comms that are not UTF-8: never fail on them.
    const std::string what = python_message(error);
    PyObject* message = PyUnicode_DecodeUTF8(what.data(), Py_ssize_t(what.size()), "replace");
    if (message == nullptr)
        return;  // MemoryError is set
    PyObject* type = exception_type_for(error.errno_value());
    if (type == PyExc_ValueError) {
        PyErr_SetObject(type, message);
        Py_DECREF(message);
        return;
    }
    // OSError(errno, strerror) fills .errno and .strerror; the library's
    // message takes strerror's place. "N" hands our reference to the tuple.
    PyObject* arguments = Py_BuildValue("(iN)", error.errno_value(), message);
    if (arguments == nullptr)
        return;  // MemoryError is set
    PyErr_SetObject(type, arguments);
    Py_DECREF(arguments);
}

}  // namespace

void register_error_translator() {
    pybind11::register_exception_translator([](std::exception_ptr pending) {
        try {
            if (pending)
                std::rethrow_exception(pending);
        } catch (const Error& error) {
            raise_python_error(error);
        }
    });
}

}  // namespace waketrace::python
