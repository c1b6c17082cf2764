#include "options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>

namespace waketrace::c_api {
namespace {

[[noreturn]] void invalid(const std::string& why) { throw Error(EINVAL, "invalid wt_profiler_opts: " + why); }

bool all_zero(const unsigned char* bytes, size_t size) {
    return std::all_of(bytes, bytes + size, [](unsigned char byte) { return byte == 0; });
}

#define WT_FIELD_END(field) (offsetof(wt_profiler_opts, field) + sizeof(wt_profiler_opts::field))
// Where each field before reserved[] ends. The struct of any version ends at
// one of these (or in reserved[]); a size that cuts a field would leave part
// of it, say half of the log function pointer, copied and the rest zero.
constexpr size_t field_ends[] = {
    WT_FIELD_END(sz), WT_FIELD_END(flags), WT_FIELD_END(threads), WT_FIELD_END(stacks),
    WT_FIELD_END(attach), WT_FIELD_END(state_mask), WT_FIELD_END(stack_storage_size),
    WT_FIELD_END(min_block_us), WT_FIELD_END(max_block_us), WT_FIELD_END(max_chains),
    WT_FIELD_END(max_off_cpu_threads), WT_FIELD_END(log), WT_FIELD_END(log_ctx),
    WT_FIELD_END(stack_sample_percent), WT_FIELD_END(dwarf_stack_bytes),
    WT_FIELD_END(dwarf_ring_bytes),
};
#undef WT_FIELD_END
static_assert(field_ends[std::size(field_ends) - 1] == offsetof(wt_profiler_opts, reserved),
              "field_ends lists every field before reserved[]");

bool cuts_a_field(size_t sz) {
    return sz < offsetof(wt_profiler_opts, reserved) &&
           std::find(std::begin(field_ends), std::end(field_ends), sz) == std::end(field_ends);
}

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
    config.dwarf_ring_bytes = opts.dwarf_ring_bytes;
    if (opts.log) {
        config.log = [log = opts.log, ctx = opts.log_ctx](LogLevel level, std::string_view message) {
            const std::string text(message);
            log(ctx, static_cast<uint32_t>(level), text.c_str());
        };
    }
    return config;
}

}  // namespace waketrace::c_api
