// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every row of include/waketrace/options.hpp through every way in, under
// one name and with one set of bounds: Config (the library's validation),
// the command line and the C struct. Python's way in is checked by
// tests/python/test_option_table.py.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <waketrace/options.hpp>
#include <waketrace/waketrace.h>

#include "profiler_engine.hpp"
#include "c/options.hpp"
#include "cli/option_specs.hpp"
#include "cli/options.hpp"

namespace wt = waketrace;
using wt::options::Kind;
using wt::options::Option;

namespace {

// Values just outside the row's bounds, and one inside them its rule refuses.
std::vector<uint64_t> refused(const Option& option) {
    std::vector<uint64_t> values;
    if (option.kind == Kind::flag)
        return values;
    if (option.max < option.type_max)
        values.push_back(option.max + 1);
    if (option.min > 1 || (option.min == 1 && option.zero_means.empty()))
        values.push_back(option.min - 1);
    if (option.rule)
        for (uint64_t value = option.min; value <= option.max; ++value)
            if (!option.rule->accepts(value)) {
                values.push_back(value);
                break;
            }
    return values;
}

// The lowest and highest values the bounds take, and the default.
std::vector<uint64_t> accepted(const Option& option) {
    std::vector<uint64_t> values;
    uint64_t lowest = option.min;
    while (!wt::options::within_bounds(option, lowest))
        ++lowest;
    values.push_back(lowest);
    values.push_back(option.max);
    if (const std::optional<uint64_t> value = wt::options::default_value(option))
        values.push_back(*value);
    return values;
}

// Config with the row at `value`, and min_block_us at 0 so that no
// max_block_us is below it.
wt::Config config_with(const Option& option, uint64_t value) {
    wt::Config config;
    config.min_block_us = 0;
    option.set(config, value);
    return config;
}

std::string library_error(const wt::Config& config) {
    try {
        wt::detail::ProfilerEngine profiler(config);
    } catch (const wt::Error& error) {
        return std::to_string(error.errno_value()) + " " + error.message();
    }
    return "";
}

wt::cli::Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "waketrace");
    std::vector<const char*> argv;
    for (const std::string& arg : args)
        argv.push_back(arg.c_str());
    return wt::cli::parse_options(int(argv.size()), argv.data());
}

std::string usage_error(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const wt::cli::UsageError& error) {
        return error.what();
    }
    return "";
}

// The struct with the row's field (and, for an optional number, its flag)
// set to `value`, or the row's flag bit set.
wt_profiler_opts c_opts_with(const Option& option, uint64_t value) {
    wt_profiler_opts opts{};
    opts.sz = sizeof(opts);
    auto* field = reinterpret_cast<unsigned char*>(&opts) + option.c_offset;
    if (option.c_size == sizeof(uint32_t)) {
        const uint32_t narrow = uint32_t(value);
        std::memcpy(field, &narrow, sizeof(narrow));
    } else if (option.c_size == sizeof(uint64_t)) {
        std::memcpy(field, &value, sizeof(value));
    }
    if (option.kind == Kind::optional_number || (option.kind == Kind::flag && value))
        opts.flags |= option.c_flag;
    return opts;
}

bool fits_c_field(const Option& option, uint64_t value) {
    return option.c_size == sizeof(uint64_t) || value <= UINT32_MAX;
}

}  // namespace

TEST_CASE("the library accepts each row's bounds and refuses what lies outside, naming the member") {
    for (const Option& option : wt::options::table) {
        INFO(option.name);
        for (uint64_t value : refused(option)) {
            INFO(value);
            const std::string error = library_error(config_with(option, value));
            CHECK(error.rfind(std::to_string(EINVAL) + " ", 0) == 0);
            CHECK_THAT(error, Catch::Contains(std::string(option.name) + " must be"));
        }
        for (uint64_t value : accepted(option)) {
            INFO(value);
            CHECK(library_error(config_with(option, value)).empty());
        }
        if (!option.zero_means.empty())
            CHECK(library_error(config_with(option, 0)).empty());
    }
}

TEST_CASE("the command line sets each row as --cli_long (and -cli_short) with the same bounds") {
    for (const Option& option : wt::options::table) {
        INFO(option.name);
        const std::string flag = "--" + std::string(option.cli_long);
        const wt::cli::OptionSpec* spec = wt::cli::find_long(option.cli_long);
        REQUIRE(spec != nullptr);
        CHECK(spec->option == &option);
        if (option.cli_short)
            CHECK(wt::cli::find_short(option.cli_short) == spec);
        CHECK(wt::cli::option_for(option.name) == flag);
        CHECK(wt::cli::in_cli_terms("invalid: " + std::string(option.name) + " must be 1") ==
              "invalid: " + flag + " must be 1");
        CHECK_THAT(wt::cli::usage_text("waketrace"), Catch::Contains(flag));

        if (option.kind == Kind::flag) {
            CHECK(option.get(parse({"-m0"}).config) == 0u);
            CHECK(option.get(parse({"-m0", flag}).config) == 1u);
            CHECK(usage_error({flag + "=1"}) == "option " + flag + " takes no value");
            continue;
        }
        std::vector<uint64_t> cli_refused = refused(option);
        if (!option.zero_means.empty())
            cli_refused.push_back(0);  // leaving the option out is how to say 0
        for (uint64_t value : cli_refused) {
            INFO(value);
            CHECK(usage_error({flag, std::to_string(value)})
                      .rfind("invalid " + flag + " value '" + std::to_string(value) + "'", 0) == 0);
            if (option.cli_short)
                CHECK_THAT(usage_error({std::string("-") + option.cli_short + std::to_string(value)}),
                           Catch::Contains(std::string("invalid -") + option.cli_short + " value"));
        }
        for (uint64_t value : accepted(option)) {
            if (!wt::options::within_bounds(option, value))
                continue;  // a default of 0, given by leaving the option out
            INFO(value);
            CHECK(option.get(parse({"-m0", flag + "=" + std::to_string(value)}).config) == value);
        }
    }
}

TEST_CASE("C callers set each row through its field or flag bit, 0 meaning the default") {
    for (const Option& option : wt::options::table) {
        INFO(option.name);
        // Nothing set: every default.
        const wt_profiler_opts zeroed = c_opts_with(option, 0);
        if (option.kind == Kind::optional_number)
            CHECK(option.get(wt::c_api::config_from(&zeroed)) == 0u);  // its flag says 0 is meant
        else
            CHECK(option.get(wt::c_api::config_from(&zeroed)) == wt::options::default_value(option));

        for (uint64_t value : refused(option)) {
            if (value == 0 || !fits_c_field(option, value))
                continue;
            INFO(value);
            const wt_profiler_opts opts = c_opts_with(option, value);
            errno = 0;
            wt_profiler* profiler = wt_profiler_new(&opts);
            CHECK(profiler == nullptr);
            CHECK(errno == EINVAL);
            CHECK_THAT(wt_last_error(), Catch::Contains(std::string(option.name)));
            wt_profiler_free(profiler);
        }
        for (uint64_t value : accepted(option)) {
            if (value == 0 || !fits_c_field(option, value))
                continue;
            INFO(value);
            const wt_profiler_opts opts = c_opts_with(option, value);
            CHECK(option.get(wt::c_api::config_from(&opts)) == value);
            wt_profiler* profiler = wt_profiler_new(&opts);
            CHECK(profiler != nullptr);
            wt_profiler_free(profiler);
        }
        if (option.kind == Kind::optional_number) {
            wt_profiler_opts unflagged = c_opts_with(option, 1);
            unflagged.flags &= ~option.c_flag;
            CHECK(wt_profiler_new(&unflagged) == nullptr);
            CHECK_THAT(wt_last_error(), Catch::Contains(std::string(option.name) + " is set without " +
                                                        std::string(option.c_flag_name)));
        }
    }
}

TEST_CASE("options with bounds of their own say them in the library's words") {
    const Option* stack = wt::options::find("dwarf_stack_bytes");
    REQUIRE(stack != nullptr);
    CHECK(wt::options::problem(*stack, stack->name, 1500) ==
          "dwarf_stack_bytes must be 0 or a multiple of 1024 from 1024 to 16384, not 1500");
    const Option* percent = wt::options::find("stack_sample_percent");
    REQUIRE(percent != nullptr);
    CHECK(wt::options::problem(*percent, "--sample", 0) == "--sample must be 1 to 100, not 0");
    CHECK(wt::options::problem(*percent, "--sample", 100).empty());
    const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
    const Option* ring = wt::options::find("dwarf_ring_bytes");
    REQUIRE(ring != nullptr);
    for (uint64_t bytes : {page, 2 * page, 64 * page, wt::options::kMaxDwarfRingBytes})
        CHECK(wt::options::accepts(*ring, bytes));
    for (uint64_t bytes : {page / 2, 3 * page, page + 1, 2 * wt::options::kMaxDwarfRingBytes})
        CHECK_FALSE(wt::options::accepts(*ring, bytes));
}
