// SPDX-License-Identifier: LGPL-2.1-or-later
#include "log_callback.hpp"

#include <memory>

#include "option_names.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

// Copies of the std::function share one of these, so copying never touches
// the Python reference count; the last copy takes the GIL to drop it.
class CallableReference {
public:
    explicit CallableReference(py::object callable) : callable_(std::move(callable)) {}
    CallableReference(const CallableReference&) = delete;
    CallableReference& operator=(const CallableReference&) = delete;
    ~CallableReference() {
        py::gil_scoped_acquire gil;
        callable_.release().dec_ref();
    }

    void call(LogLevel level, std::string_view message) const {
        py::gil_scoped_acquire gil;
        try {
            callable_(log_level_name(level), os_string(message));
        } catch (py::error_already_set& error) {
            error.discard_as_unraisable("waketrace log callback");
        }
    }

private:
    py::object callable_;
};

}  // namespace

LogFunction python_log_callback(py::object callable) {
    if (callable.is_none())
        return {};
    if (!PyCallable_Check(callable.ptr()))
        throw py::type_error("log must be a callable taking (level, message), or None");
    auto reference = std::make_shared<const CallableReference>(std::move(callable));
    return [reference](LogLevel level, std::string_view message) { reference->call(level, message); };
}

}  // namespace waketrace::python
