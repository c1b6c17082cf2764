// SPDX-License-Identifier: LGPL-2.1-or-later
#include "options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>

#include "waketrace/options.hpp"

namespace waketrace::c_api {
namespace {

[[noreturn]] void invalid(const std::string& why) { throw Error(EINVAL, "invalid wt_profiler_opts: " + why); }

bool all_zero(const unsigned char* bytes, size_t size) {
    return std::all_of(bytes, bytes + size, [](unsigned char byte) { return byte == 0; });
}

#define WT_FIELD_END(field) (offsetof(wt_profiler_opts, field) + sizeof(wt_profiler_opts::field))
// Where each field before reserved[] ends: these, and each option's field
// (options::table). The struct of any version ends at one of them (or in
// reserved[]); a size that cuts a field would leave part of it, say half of
// the log function pointer, copied and the rest zero.
constexpr size_t other_field_ends[] = {
    WT_FIELD_END(sz),     WT_FIELD_END(flags), WT_FIELD_END(threads), WT_FIELD_END(stacks),
    WT_FIELD_END(attach), WT_FIELD_END(log),   WT_FIELD_END(log_ctx),
};
#undef WT_FIELD_END

constexpr size_t option_field_end(const options::Option& option) {
    return option.c_size ? option.c_offset + option.c_size : 0;
}

constexpr size_t last_field_end() {
    size_t last = 0;
    for (size_t end : other_field_ends)
        last = std::max(last, end);
    for (const options::Option& option : options::table)
        last = std::max(last, option_field_end(option));
    return last;
}
static_assert(last_field_end() == offsetof(wt_profiler_opts, reserved),
              "every field before reserved[] is an option's or listed in other_field_ends");

bool is_field_end(size_t sz) {
    return std::find(std::begin(other_field_ends), std::end(other_field_ends), sz) !=
               std::end(other_field_ends) ||
           std::any_of(std::begin(options::table), std::end(options::table),
                       [sz](const options::Option& option) { return option_field_end(option) == sz; });
}

bool cuts_a_field(size_t sz) { return sz < offsetof(wt_profiler_opts, reserved) && !is_field_end(sz); }

// Copies what the caller's struct has into a zeroed struct of ours.
wt_profiler_opts normalized(const wt_profiler_opts* opts) {
    wt_profiler_opts ours{};
    ours.sz = sizeof(ours);
    if (!opts)
        return ours;
    if (opts->sz < sizeof(opts->sz) || cuts_a_field(opts->sz))
        invalid(fmt::format("sz is {}: set it to sizeof(struct wt_profiler_opts)", opts->sz));
    const auto* bytes = reinterpret_cast<const unsigned char*>(opts);
    if (opts->sz > sizeof(ours) && !all_zero(bytes + sizeof(ours), opts->sz - sizeof(ours)))
        invalid("it sets fields this version of libwaketrace does not know (a newer header?)");
    const size_t known = std::min(opts->sz, sizeof(ours));
    std::memcpy(reinterpret_cast<unsigned char*>(&ours) + sizeof(ours.sz), bytes + sizeof(ours.sz),
                known - sizeof(ours.sz));
    ours.sz = sizeof(ours);
    return ours;
}

template <typename Enum>
Enum pick(uint32_t value, const char* field, std::initializer_list<Enum> choices) {
    if (value >= choices.size())
        invalid(fmt::format("{} is {}, not one of the defined values", field, value));
    return *(choices.begin() + value);
}

constexpr uint32_t known_flags() {
    uint32_t flags = 0;
    for (const options::Option& option : options::table)
        flags |= option.c_flag;
    return flags;
}

uint64_t field_value(const wt_profiler_opts& opts, const options::Option& option) {
    const unsigned char* field = reinterpret_cast<const unsigned char*>(&opts) + option.c_offset;
    if (option.c_size == sizeof(uint32_t)) {
        uint32_t value = 0;
        std::memcpy(&value, field, sizeof(value));
        return value;
    }
    uint64_t value = 0;
    std::memcpy(&value, field, sizeof(value));
    return value;
}

// The library validates the values; only how C says them is checked here.
void copy_option(const wt_profiler_opts& opts, const options::Option& option, Config& config) {
    switch (option.kind) {
    case options::Kind::number:
        // Zero selects the default, so `{ .sz = sizeof(opts) }` works.
        if (const uint64_t value = field_value(opts, option))
            option.set(config, value);
        break;
    case options::Kind::optional_number:
        if (opts.flags & option.c_flag)
            option.set(config, field_value(opts, option));
        else if (field_value(opts, option))
            invalid(fmt::format("{} is set without {}", option.name, option.c_flag_name));
        break;
    case options::Kind::flag:
        if (opts.flags & option.c_flag)
            option.set(config, 1);
        break;
    }
}

}  // namespace

Config config_from(const wt_profiler_opts* caller_opts) {
    const wt_profiler_opts opts = normalized(caller_opts);
    if (opts.flags & ~known_flags())
        invalid(fmt::format("flags has unknown bits {:#x}", opts.flags & ~known_flags()));
    if (!all_zero(opts.reserved, sizeof(opts.reserved)))
        invalid("reserved bytes must be zero");

    Config config;
    config.threads =
        pick(opts.threads, "threads", {ThreadKind::all, ThreadKind::user_only, ThreadKind::kernel_only});
    config.stacks =
        pick(opts.stacks, "stacks", {StackKinds::both, StackKinds::kernel_only, StackKinds::user_only});
    config.attach =
        pick(opts.attach, "attach", {AttachMode::automatic, AttachMode::tp_btf, AttachMode::raw_tp});
    for (const options::Option& option : options::table)
        copy_option(opts, option, config);
    if (opts.log) {
        config.log = [log = opts.log, ctx = opts.log_ctx](LogLevel level, std::string_view message) {
            const std::string text(message);
            log(ctx, static_cast<uint32_t>(level), text.c_str());
        };
    }
    return config;
}

}  // namespace waketrace::c_api
