// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The waketrace command line parser. The input is argv without argv[0], the
// arguments separated by NUL bytes. Any command line is either refused with a
// UsageError or gives options that keep the parser's own promises.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "options.hpp"

using waketrace::cli::Options;

namespace {

std::vector<std::string> split_arguments(const uint8_t* data, size_t size) {
    std::vector<std::string> arguments{"waketrace"};
    std::string current;
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\0') {
            arguments.push_back(std::move(current));
            current.clear();
        } else {
            current += static_cast<char>(data[i]);
        }
    }
    if (size > 0)
        arguments.push_back(std::move(current));
    return arguments;
}

void check(const Options& options) {
    const waketrace::Config& config = options.config;
    if (options.show_help) {
        // -h wins over everything: nothing else is set.
        if (!config.pids.empty() || !config.tids.empty() || !options.command.empty() || options.duration_s ||
            options.folded || !options.output_path.empty())
            std::abort();
        return;
    }
    if (config.min_block_us > config.max_block_us)
        std::abort();
    if (!options.command.empty() && (!config.pids.empty() || !config.tids.empty()))
        std::abort();
    if (options.duration_s && !(*options.duration_s > 0 && *options.duration_s <= 1e9))
        std::abort();
    for (uint32_t id : config.pids)
        if (id == 0 || id > INT32_MAX)
            std::abort();
    for (uint32_t id : config.tids)
        if (id == 0 || id > INT32_MAX)
            std::abort();
    if (config.stack_sample_percent < 1 || config.stack_sample_percent > 100)
        std::abort();
    if (config.dwarf_stack_bytes % 1024 != 0 || config.dwarf_stack_bytes > 16384)
        std::abort();
    // A ring size the parser accepts is one the library accepts.
    const uint32_t ring = config.dwarf_ring_bytes;
    if (ring != 0 && ((ring & (ring - 1)) != 0 || ring % uint32_t(sysconf(_SC_PAGESIZE)) != 0))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<std::string> arguments = split_arguments(data, size);
    std::vector<const char*> argv;
    for (const std::string& argument : arguments)
        argv.push_back(argument.c_str());
    argv.push_back(nullptr);
    try {
        check(waketrace::cli::parse_options(static_cast<int>(arguments.size()), argv.data()));
    } catch (const waketrace::cli::UsageError& error) {
        // One line naming the problem, as main() prints it.
        if (std::string(error.what()).empty())
            std::abort();
    }
    return 0;
}
