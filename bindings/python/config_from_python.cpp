// SPDX-License-Identifier: LGPL-2.1-or-later
#include "config_from_python.hpp"

#include <pybind11/stl.h>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <waketrace/options.hpp>

#include "log_callback.hpp"
#include "option_names.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

constexpr long long kMaxU32 = std::numeric_limits<uint32_t>::max();

std::string type_name(const py::handle& value) { return Py_TYPE(value.ptr())->tp_name; }

std::vector<uint32_t> checked_ids(const std::string& name, const py::handle& value) {
    std::vector<long long> ids;
    try {
        ids = value.cast<std::vector<long long>>();
    } catch (const py::cast_error&) {
        throw py::type_error(fmt::format("{} must be a list of ids, not {}", name, type_name(value)));
    }
    std::vector<uint32_t> checked;
    for (long long id : ids) {
        if (id < 0 || id > kMaxU32)
            throw py::value_error(fmt::format("{}: {} is not a process or thread id", name, id));
        checked.push_back(uint32_t(id));
    }
    return checked;
}

std::string checked_string(const std::string& name, const py::handle& value) {
    if (!py::isinstance<py::str>(value))
        throw py::type_error(fmt::format("{} must be a string, not {}", name, type_name(value)));
    return value.cast<std::string>();
}

// An int within the member's type (0 to type_max); the library checks the
// option's own bounds.
uint64_t checked_number(const options::Option& option, const py::handle& value) {
    if (!py::isinstance<py::int_>(value))
        throw py::type_error(fmt::format("{} must be an integer, not {}", option.name, type_name(value)));
    const unsigned long long number = PyLong_AsUnsignedLongLong(value.ptr());
    const bool overflow = PyErr_Occurred() != nullptr;  // negative, or past 64 bits
    PyErr_Clear();
    if (overflow || number > option.type_max)
        throw py::value_error(fmt::format("{}={} is out of range (0 to {})", option.name,
                                          py::str(value).cast<std::string>(), option.type_max));
    return number;
}

// A list of paths (str or os.PathLike), or one path.
std::vector<std::string> checked_paths(const std::string& name, const py::handle& value) {
    const py::module_ os = py::module_::import("os");
    auto path_of = [&](const py::handle& item) {
        if (!py::isinstance<py::str>(item) && !py::hasattr(item, "__fspath__"))
            throw py::type_error(fmt::format("{} must be a list of paths, not {}", name, type_name(item)));
        return os.attr("fsdecode")(item).cast<std::string>();
    };
    if (py::isinstance<py::str>(value) || py::hasattr(value, "__fspath__"))
        return {path_of(value)};
    if (!py::isinstance<py::sequence>(value))
        throw py::type_error(fmt::format("{} must be a list of paths, not {}", name, type_name(value)));
    std::vector<std::string> paths;
    for (const py::handle item : value)
        paths.push_back(path_of(item));
    return paths;
}

void set_option(Config& config, const options::Option& option, const py::handle& value) {
    if (option.kind != options::Kind::flag) {
        option.set(config, checked_number(option, value));
        return;
    }
    if (!py::isinstance<py::bool_>(value))
        throw py::type_error(fmt::format("{} must be True or False, not {}", option.name, type_name(value)));
    option.set(config, value.cast<bool>());
}

bool is_own_keyword(std::string_view name) {
    for (const OwnKeyword& keyword : own_keywords)
        if (keyword.name == name)
            return true;
    return false;
}

void set_own(Config& config, const std::string& name, const py::handle& value) {
    if (name == "pids")
        config.pids = checked_ids(name, value);
    else if (name == "tids")
        config.tids = checked_ids(name, value);
    else if (name == "cgroups")
        config.cgroups = checked_paths(name, value);
    else if (name == "threads")
        config.threads = parse_thread_kind(checked_string(name, value));
    else if (name == "stacks")
        config.stacks = parse_stack_kinds(checked_string(name, value));
    else if (name == "attach")
        config.attach = parse_attach_mode(checked_string(name, value));
    else if (name == "log")
        config.log = python_log_callback(py::reinterpret_borrow<py::object>(value));
}

}  // namespace

Config config_from_python(const py::kwargs& keywords) {
    Config config;
    for (const auto& [key, value] : keywords) {
        const std::string name = py::str(key);
        const options::Option* option = options::find(name);
        if (!option && !is_own_keyword(name))
            throw py::type_error(fmt::format("Profiler() got an unexpected keyword argument '{}'", name));
        if (value.is_none())
            continue;
        if (option)
            set_option(config, *option, value);
        else
            set_own(config, name, value);
    }
    return config;
}

}  // namespace waketrace::python
