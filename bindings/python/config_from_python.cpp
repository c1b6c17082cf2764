// SPDX-License-Identifier: LGPL-2.1-or-later
#include "config_from_python.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

#include "log_callback.hpp"
#include "option_names.hpp"

namespace waketrace::python {
namespace {

constexpr long long kMaxU32 = std::numeric_limits<uint32_t>::max();

long long checked_range(const char* name, long long value, long long max) {
    if (value < 0 || value > max)
        throw pybind11::value_error(fmt::format("{}={} is out of range (0 to {})", name, value, max));
    return value;
}

uint32_t checked_u32(const char* name, long long value) {
    return uint32_t(checked_range(name, value, kMaxU32));
}

uint64_t checked_u64(const char* name, long long value) {
    return uint64_t(checked_range(name, value, std::numeric_limits<long long>::max()));
}

std::vector<uint32_t> checked_ids(const char* name, const std::optional<std::vector<long long>>& ids) {
    std::vector<uint32_t> checked;
    if (!ids)
        return checked;
    for (long long id : *ids) {
        if (id < 0 || id > kMaxU32)
            throw pybind11::value_error(fmt::format("{}: {} is not a process or thread id", name, id));
        checked.push_back(uint32_t(id));
    }
    return checked;
}

}  // namespace

Config config_from_python(const ConfigArguments& arguments) {
    Config config;
    config.pids = checked_ids("pids", arguments.pids);
    config.tids = checked_ids("tids", arguments.tids);
    config.threads = parse_thread_kind(arguments.threads);
    config.stacks = parse_stack_kinds(arguments.stacks);
    if (arguments.state_mask)
        config.state_mask = checked_u32("state_mask", *arguments.state_mask);
    config.min_block_us = checked_u64("min_block_us", arguments.min_block_us);
    if (arguments.max_block_us)
        config.max_block_us = checked_u64("max_block_us", *arguments.max_block_us);
    config.stack_storage_size = checked_u32("stack_storage_size", arguments.stack_storage_size);
    config.max_chains = checked_u32("max_chains", arguments.max_chains);
    config.max_off_cpu_threads = checked_u32("max_off_cpu_threads", arguments.max_off_cpu_threads);
    config.attach = parse_attach_mode(arguments.attach);
    config.stack_sample_percent = checked_u32("stack_sample_percent", arguments.stack_sample_percent);
    config.dwarf_stack_bytes = checked_u32("dwarf_stack_bytes", arguments.dwarf_stack_bytes);
    config.dwarf_ring_bytes = checked_u32("dwarf_ring_bytes", arguments.dwarf_ring_bytes);
    config.log = python_log_callback(arguments.log);
    return config;
}

}  // namespace waketrace::python
