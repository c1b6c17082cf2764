// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profiler(**keywords) -> waketrace::Config. The scalar keywords are the
// rows of include/waketrace/options.hpp, named as their Config members; the
// others (pids, tids, threads, stacks, attach, log) are listed here. Checks
// only what the C++ types cannot hold (negative ids, unknown option strings,
// values past the member's type); the rest (0 sizes, min above max, pid 0)
// is the library's to validate, so both APIs reject the same configs with
// the same words.
#pragma once

#include <pybind11/pybind11.h>

#include <string_view>

#include <waketrace/config.hpp>

namespace waketrace::python {

// A keyword that is not a row of options::table.
struct OwnKeyword {
    std::string_view name;
    std::string_view shown_default;  // as the docstring's signature shows it
    std::string_view doc;
};

inline constexpr OwnKeyword own_keywords[] = {
    {"pids", "None", "profile only these processes (None: every process)"},
    {"tids", "None", "profile only these threads (None: every thread)"},
    {"cgroups", "None",
     "profile only threads in these cgroup v2 directories or below (paths, at most 8; None: any)"},
    {"threads", "\"all\"", "\"all\", \"user\" (no kernel threads) or \"kernel\""},
    {"stacks", "\"both\"", "\"both\", \"kernel\" or \"user\""},
    {"attach", "\"auto\"", "\"auto\", \"tp_btf\" or \"raw_tp\""},
    {"log", "None",
     "callable(level, message) for profiler, verifier and libbpf messages, called from whichever "
     "thread is inside the profiler. Without it they are dropped: libbpf's never reach standard "
     "error."},
};

// None, or a keyword left out, is the default. Throws pybind11::value_error
// for a value out of range, pybind11::type_error for a value of the wrong
// type or an unknown keyword.
Config config_from_python(const pybind11::kwargs& keywords);

}  // namespace waketrace::python
