// SPDX-License-Identifier: LGPL-2.1-or-later
#include "python_strings.hpp"

namespace waketrace::python {

pybind11::str os_string(std::string_view bytes) {
    PyObject* text = PyUnicode_DecodeUTF8(bytes.data(), Py_ssize_t(bytes.size()), "surrogateescape");
    if (text == nullptr)
        throw pybind11::error_already_set();  // only MemoryError is left to fail
    return pybind11::reinterpret_steal<pybind11::str>(text);
}

}  // namespace waketrace::python
