#include "options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace waketrace::c_api {
namespace {

[[noreturn]] void invalid(const std::string& why) { throw Error(EINVAL, "invalid wt_profiler_opts: " + why); }

bool all_zero(const unsigned char* bytes, size_t size) {
    return std::all_of(bytes, bytes + size, [](unsigned char byte) { return byte == 0; });
}

// Copies what the caller's struct has into a zeroed struct of ours.
wt_profiler_opts normalized(const wt_profiler_opts* opts) {
    wt_profiler_opts ours{};
    ours.sz = sizeof(ours);
    if (!opts)
        return ours;
    if (opts->sz < sizeof(opts->sz))
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

}  // namespace

Config config_from(const wt_profiler_opts* caller_opts) {
    const wt_profiler_opts opts = normalized(caller_opts);
    if (opts.flags & ~WT_OPT_STATE_FILTER)
        invalid(fmt::format("flags has unknown bits {:#x}", opts.flags & ~WT_OPT_STATE_FILTER));
    if (!all_zero(opts.reserved, sizeof(opts.reserved)))
        invalid("reserved bytes must be zero");

    Config config;
    config.threads = pick(opts.threads, "threads",
                          {ThreadKind::all, ThreadKind::user_only, ThreadKind::kernel_only});
    config.stacks = pick(opts.stacks, "stacks",
                         {StackKinds::both, StackKinds::kernel_only, StackKinds::user_only});
    config.attach = pick(opts.attach, "attach", {AttachMode::automatic, AttachMode::tp_btf, AttachMode::raw_tp});
    if (opts.flags & WT_OPT_STATE_FILTER)
        config.state_mask = opts.state_mask;
    else if (opts.state_mask)
        invalid("state_mask is set without WT_OPT_STATE_FILTER");
    // Zero selects the default, so `{ .sz = sizeof(opts) }` works.
    if (opts.min_block_us)
        config.min_block_us = opts.min_block_us;
    if (opts.max_block_us)
        config.max_block_us = opts.max_block_us;
    if (opts.stack_storage_size)
        config.stack_storage_size = opts.stack_storage_size;
    if (opts.max_chains)
        config.max_chains = opts.max_chains;
    if (opts.max_off_cpu_threads)
        config.max_off_cpu_threads = opts.max_off_cpu_threads;
    if (opts.stack_sample_percent)
        config.stack_sample_percent = opts.stack_sample_percent;
    config.dwarf_stack_bytes = opts.dwarf_stack_bytes;
    if (opts.log) {
        config.log = [log = opts.log, ctx = opts.log_ctx](LogLevel level, std::string_view message) {
            const std::string text(message);
            log(ctx, static_cast<uint32_t>(level), text.c_str());
        };
    }
    return config;
}

}  // namespace waketrace::c_api
