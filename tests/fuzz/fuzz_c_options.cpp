// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C options normalizer: the input is the caller's struct wt_profiler_opts
// as bytes, of any size, its sz field clamped to the bytes there are (a
// caller cannot declare more than it has). Any struct is either refused with
// Error(EINVAL) or gives a Config that says what the struct said.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include <waketrace/options.hpp>

#include "options.hpp"

using waketrace::Config;

namespace {

// What the last log callback received.
struct LogCall {
    int calls = 0;
    uint32_t level = 0;
    void* context = nullptr;
};
LogCall last_log;

void record_log(void* context, uint32_t level, const char* message) {
    if (message == nullptr || std::string_view(message) != "fuzz")
        std::abort();
    ++last_log.calls;
    last_log.level = level;
    last_log.context = context;
}

bool covers(size_t declared, size_t field_offset, size_t field_size) {
    return declared >= field_offset + field_size;
}

uint64_t field_value(const wt_profiler_opts& opts, const waketrace::options::Option& option) {
    uint64_t value = 0;
    if (option.c_size == sizeof(uint32_t)) {
        uint32_t narrow = 0;
        std::memcpy(&narrow, reinterpret_cast<const unsigned char*>(&opts) + option.c_offset, sizeof(narrow));
        value = narrow;
    } else {
        std::memcpy(&value, reinterpret_cast<const unsigned char*>(&opts) + option.c_offset, sizeof(value));
    }
    return value;
}

// Whether Config has the option as the struct said it: a number's non-zero
// field, an optional number's field with its flag, a flag's bit. A field
// past `declared` reads as zero.
bool shows(const waketrace::options::Option& option, const Config& config, const wt_profiler_opts& opts,
           size_t declared) {
    using waketrace::options::Kind;
    const std::optional<uint64_t> value = option.get(config);
    const uint32_t flags =
        covers(declared, offsetof(wt_profiler_opts, flags), sizeof opts.flags) ? opts.flags : 0;
    if (option.kind == Kind::flag)
        return value == uint64_t((flags & option.c_flag) != 0);
    const bool covered = covers(declared, option.c_offset, option.c_size);
    const uint64_t field = covered ? field_value(opts, option) : 0;  // beyond sz: zero
    if (option.kind == Kind::optional_number)
        return (flags & option.c_flag) ? value == field : !value.has_value();
    return value == (field ? field : waketrace::options::default_value(option));
}

// What the caller set and the Config must show.
void check(const Config& config, const wt_profiler_opts& opts, size_t declared) {
    for (const waketrace::options::Option& option : waketrace::options::table)
        if (!shows(option, config, opts, declared))
            std::abort();
    const bool has_log =
        covers(declared, offsetof(wt_profiler_opts, log), sizeof opts.log) && opts.log != nullptr;
    if (has_log != static_cast<bool>(config.log))
        std::abort();
    if (config.log) {
        // log_ctx reaches the callback when the struct has it, else NULL.
        void* context = covers(declared, offsetof(wt_profiler_opts, log_ctx), sizeof opts.log_ctx)
                            ? opts.log_ctx
                            : nullptr;
        last_log = {};
        config.log(waketrace::LogLevel::warning, "fuzz");
        if (last_log.calls != 1 || last_log.context != context ||
            last_log.level != static_cast<uint32_t>(waketrace::LogLevel::warning))
            std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < sizeof(size_t)) {
        // No struct at all: NULL means every default.
        Config config = waketrace::c_api::config_from(nullptr);
        if (config.min_block_us != Config{}.min_block_us || config.log)
            std::abort();
        return 0;
    }
    // Aligned, as a caller's struct is, with room for our struct's fields
    // when the caller's is smaller (they are never read: sz says so).
    std::vector<std::max_align_t> storage(
        (std::max(size, sizeof(wt_profiler_opts)) + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    auto* opts = reinterpret_cast<wt_profiler_opts*>(storage.data());
    std::memcpy(opts, data, size);
    opts->sz = std::min(opts->sz, size);

    // A C caller's function pointer is real or NULL: make a set one ours.
    // (log_ctx stays as the input says: it is only handed back.)
    if (covers(opts->sz, offsetof(wt_profiler_opts, log), sizeof opts->log) && opts->log)
        opts->log = record_log;

    try {
        check(waketrace::c_api::config_from(opts), *opts, opts->sz);
    } catch (const waketrace::Error& error) {
        if (error.errno_value() != EINVAL)
            std::abort();
    }
    return 0;
}
