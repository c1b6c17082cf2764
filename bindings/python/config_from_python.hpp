// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profiler(...) keyword arguments -> waketrace::Config. Checks only what the
// C++ types cannot hold (negative ids, unknown option strings); the rest
// (0 sizes, min above max, pid 0) is the library's to validate, so both APIs
// reject the same configs with the same words.
#pragma once

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include <waketrace/config.hpp>

namespace waketrace::python {

// The arguments as pybind11 converted them, before any range check.
struct ConfigArguments {
    std::optional<std::vector<long long>> pids;
    std::optional<std::vector<long long>> tids;
    std::string threads = "all";
    std::string stacks = "both";
    std::optional<long long> state_mask;
    long long min_block_us = 1;
    std::optional<long long> max_block_us;
    long long stack_storage_size = 16384;
    long long max_chains = 16384;
    long long max_off_cpu_threads = 16384;
    std::string attach = "auto";
    long long stack_sample_percent = 100;
    long long dwarf_stack_bytes = 0;
    long long dwarf_ring_bytes = 0;
    pybind11::object log = pybind11::none();
};

// Throws pybind11::value_error (or type_error for a log that is not callable).
Config config_from_python(const ConfigArguments& arguments);

}  // namespace waketrace::python
