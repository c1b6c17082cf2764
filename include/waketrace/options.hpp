// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The scalar options of waketrace::Config, each described once. A row holds
// an option's name -- the Config member, the Python keyword, the
// wt_profiler_opts field and, where the BPF program reads it, its global --
// with its command-line spelling, bounds and help. The library validates
// with this table, the command line parses and documents with it, Python
// takes its keywords and docstring from it, and the C ABI copies
// wt_profiler_opts with it. Defaults stay in Config's declarations: the
// table reads them from a default-constructed Config.
//
//     for (const waketrace::options::Option& option : waketrace::options::table)
//         if (std::optional<uint64_t> value = option.get(config))
//             ... option.name, *value ...
//
// Header-only, with no symbols of its own, so that a C++ layer over the C
// ABI can use it too.
//
// Options that are not one number or flag (pids, tids, threads, stacks,
// attach, log) each binding handles itself.
//
// Adding an option: README.md, "Adding an option".
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "waketrace/config.hpp"
#include "waketrace/waketrace.h"

namespace waketrace::options {

enum class Kind : uint8_t {
    number,           // an unsigned integer member
    optional_number,  // a std::optional<unsigned> member: unset unless given
    flag,             // a bool member, false by default
};

// Values that min..max alone does not describe.
struct ValueRule {
    bool (*accepts)(uint64_t value);  // for a value already within min..max
    std::string (*describe)();        // the values it accepts, in words
};

struct Option {
    std::string_view name;  // Config member = Python keyword = C field
    Kind kind = Kind::number;
    // The command line: --cli_long, -cli_short ('\0': none), and the name of
    // its value in --help ("N", "US", "BYTES"; empty for a flag).
    std::string_view cli_long;
    char cli_short = '\0';
    std::string_view value_name;
    // Accepted values: min..max, then `rule`. type_max is the member's own
    // limit (Python's range check, before the library's).
    uint64_t min = 0;
    uint64_t max = 0;
    uint64_t type_max = 0;
    const ValueRule* rule = nullptr;
    // Non-empty when 0, below min, is accepted too: what it means ("frame
    // pointers are walked"). The command line asks for a real value then
    // (0 is what leaving the option out gives).
    std::string_view zero_means;
    std::string_view help;  // one paragraph, no value names, no bounds (those come from above)
    // The Config member. get() is nullopt for an unset optional_number.
    std::optional<uint64_t> (*get)(const Config&) = nullptr;
    void (*set)(Config&, uint64_t) = nullptr;
    // wt_profiler_opts: a number's field (0 there means Config's default),
    // an optional number's field with the flag saying it is set, or a
    // flag's bit in `flags`.
    size_t c_offset = 0;
    size_t c_size = 0;
    uint32_t c_flag = 0;
    std::string_view c_flag_name;
    // The BPF program has a .rodata global of this name and size, which the
    // loader sets to the option's value before load.
    bool bpf_global = false;

    // Builders for the table below.
    constexpr Option on_command_line(std::string_view long_name, char short_name,
                                     std::string_view value) const {
        Option row = *this;
        row.cli_long = long_name;
        row.cli_short = short_name;
        row.value_name = value;
        return row;
    }
    constexpr Option within(uint64_t lowest, uint64_t highest) const {
        Option row = *this;
        row.min = lowest;
        row.max = highest;
        return row;
    }
    constexpr Option at_least(uint64_t lowest) const { return within(lowest, max); }
    constexpr Option only(const ValueRule& value_rule) const {
        Option row = *this;
        row.rule = &value_rule;
        return row;
    }
    constexpr Option or_zero(std::string_view meaning) const {
        Option row = *this;
        row.zero_means = meaning;
        return row;
    }
    constexpr Option read_by_bpf() const {
        Option row = *this;
        row.bpf_global = true;
        return row;
    }
    constexpr Option described(std::string_view text) const {
        Option row = *this;
        row.help = text;
        return row;
    }
};

// DWARF mode copies user stacks in chunks of this many bytes (the BPF
// program's WT_USER_STACK_CHUNK), at most 16 of them.
constexpr uint32_t kDwarfStackChunk = 1024;
constexpr uint32_t kMaxDwarfStackBytes = 16 * kDwarfStackChunk;
// The largest DWARF mode ring buffer: past this, a ring would only hide a
// reader that cannot keep up.
constexpr uint64_t kMaxDwarfRingBytes = uint64_t(1) << 30;

namespace detail {

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template <auto Member>
using MemberType = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<Config&>().*Member)>>;

template <auto Member>
std::optional<uint64_t> read_member(const Config& config) {
    const auto& value = config.*Member;
    if constexpr (is_optional<MemberType<Member>>::value)
        return value ? std::optional<uint64_t>(*value) : std::nullopt;
    else
        return uint64_t(value);
}

template <auto Member>
void write_member(Config& config, uint64_t value) {
    using T = MemberType<Member>;
    if constexpr (std::is_same_v<T, bool>)
        config.*Member = value != 0;
    else if constexpr (is_optional<T>::value)
        config.*Member = typename T::value_type(value);
    else
        config.*Member = T(value);
}

template <typename T>
constexpr uint64_t value_type_max() {
    if constexpr (std::is_same_v<T, bool>)
        return 1;
    else if constexpr (is_optional<T>::value)
        return std::numeric_limits<typename T::value_type>::max();
    else
        return std::numeric_limits<T>::max();
}

template <typename T>
constexpr size_t value_size() {
    if constexpr (is_optional<T>::value)
        return sizeof(typename T::value_type);
    else
        return sizeof(T);
}

constexpr char upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

// "no_waker_stacks" -> "WT_OPT_NO_WAKER_STACKS"
constexpr bool flag_macro_names(std::string_view macro, std::string_view member) {
    constexpr std::string_view prefix = "WT_OPT_";
    if (macro.substr(0, prefix.size()) != prefix || macro.size() != prefix.size() + member.size())
        return false;
    for (size_t i = 0; i < member.size(); ++i)
        if (macro[prefix.size() + i] != upper(member[i]))
            return false;
    return true;
}

// Not constexpr: a table row that reaches one of these fails to compile,
// and the compiler's message names the function.
inline void c_field_and_config_member_differ_in_size() {}
inline void flag_bit_macro_must_be_WT_OPT_and_the_member_in_capitals() {}

template <auto Member>
constexpr Option row(std::string_view name, size_t c_offset, size_t c_size, uint32_t c_flag,
                     std::string_view c_flag_name) {
    using T = MemberType<Member>;
    Option option;
    option.name = name;
    option.kind = std::is_same_v<T, bool> ? Kind::flag
                  : is_optional<T>::value ? Kind::optional_number
                                          : Kind::number;
    option.max = option.type_max = value_type_max<T>();
    option.get = &read_member<Member>;
    option.set = &write_member<Member>;
    option.c_offset = c_offset;
    option.c_size = c_size;
    option.c_flag = c_flag;
    option.c_flag_name = c_flag_name;
    if (option.kind != Kind::flag && c_size != value_size<T>())
        c_field_and_config_member_differ_in_size();
    if (option.kind == Kind::flag && !flag_macro_names(c_flag_name, name))
        flag_bit_macro_must_be_WT_OPT_and_the_member_in_capitals();
    return option;
}

inline uint64_t page_size() { return uint64_t(sysconf(_SC_PAGESIZE)); }

inline constexpr ValueRule whole_chunks{
    [](uint64_t bytes) { return bytes % kDwarfStackChunk == 0; },
    [] {
        return "a multiple of " + std::to_string(kDwarfStackChunk) + " from " +
               std::to_string(kDwarfStackChunk) + " to " + std::to_string(kMaxDwarfStackBytes);
    },
};

// The kernel's ring buffers are a power of two number of pages.
inline constexpr ValueRule power_of_two_pages{
    [](uint64_t bytes) {
        const uint64_t pages = bytes / page_size();
        return bytes % page_size() == 0 && pages != 0 && (pages & (pages - 1)) == 0;
    },
    [] {
        return "a power of two number of " + std::to_string(page_size()) + "-byte pages, at most " +
               std::to_string(kMaxDwarfRingBytes);
    },
};

}  // namespace detail

// The Config member NAME, whose C field has the same name.
#define WAKETRACE_OPTION_(name)                                                                            \
    ::waketrace::options::detail::row<&::waketrace::Config::name>(#name, offsetof(wt_profiler_opts, name), \
                                                                  sizeof(wt_profiler_opts::name), 0u, "")
// An optional member: its C field counts only with the FLAG bit set.
#define WAKETRACE_OPTIONAL_OPTION_(name, flag)                     \
    ::waketrace::options::detail::row<&::waketrace::Config::name>( \
        #name, offsetof(wt_profiler_opts, name), sizeof(wt_profiler_opts::name), flag, #flag)
// A bool member, set from C by the WT_OPT_<NAME> bit of wt_profiler_opts.flags.
#define WAKETRACE_FLAG_OPTION_(name, flag) \
    ::waketrace::options::detail::row<&::waketrace::Config::name>(#name, 0, 0, flag, #flag)

inline constexpr Option table[] = {
    WAKETRACE_OPTION_(stack_storage_size)
        .on_command_line("stack-storage-size", '\0', "N")
        .at_least(1)
        .described("distinct stacks of up to 32 frames the kernel maps hold, kernel and user "
                   "together, and an eighth as many (at least 64) longer ones; not a cap on the profile: the "
                   "stacks are moved to user space whenever a map is half full"),
    WAKETRACE_OPTION_(max_chains)
        .on_command_line("max-chains", '\0', "N")
        .at_least(1)
        .described("distinct (target, waker) chains the kernel map holds; not a cap on the "
                   "profile: the map is moved to user space whenever it is half full"),
    WAKETRACE_OPTION_(max_off_cpu_threads)
        .on_command_line("max-off-cpu-threads", '\0', "N")
        .at_least(1)
        .described("traced threads that can be alive at the same moment"),
    WAKETRACE_OPTION_(chain_depth)
        .on_command_line("depth", '\0', "N")
        .within(1, 8)
        .read_by_bpf()
        .described("waker levels per chain: 1 shows who woke each thread (offwaketime); N follows "
                   "the wakers back, through what each waker had itself waited on and who woke it, "
                   "up to N wakers"),
    WAKETRACE_OPTION_(max_hops)
        .on_command_line("max-hops", '\0', "N")
        .at_least(1)
        .described("distinct waker levels the kernel keeps for chains deeper than one waker; a "
                   "level that does not fit ends its chains early and is counted as lost"),
    WAKETRACE_OPTION_(min_block_us)
        .on_command_line("min-block-time", 'm', "US")
        .described("ignore off-CPU periods shorter than this, in microseconds"),
    WAKETRACE_OPTION_(max_block_us)
        .at_least(1)
        .on_command_line("max-block-time", 'M', "US")
        .described("ignore off-CPU periods longer than this, in microseconds"),
    WAKETRACE_OPTIONAL_OPTION_(state_mask, WT_OPT_STATE_FILTER)
        .on_command_line("state", '\0', "STATE")
        .described("keep only switch-outs whose task state has a bit of this mask "
                   "(2: uninterruptible); 0 keeps only preemptions"),
    WAKETRACE_OPTION_(stack_sample_percent)
        .on_command_line("sample", '\0', "PERCENT")
        .within(1, 100)
        .read_by_bpf()
        .described("percentage of blocking events whose stacks are taken: much cheaper below "
                   "100; every event is still timed, and chain times are scaled-up estimates"),
    WAKETRACE_OPTION_(dwarf_stack_bytes)
        .on_command_line("dwarf-stack-size", '\0', "BYTES")
        .within(kDwarfStackChunk, kMaxDwarfStackBytes)
        .only(detail::whole_chunks)
        .or_zero("user stacks are walked by frame pointers")
        .read_by_bpf()
        .described("the most user stack bytes copied per stack (less once a thread's stack "
                   "end is known), to unwind with the binaries' unwind tables instead of walking "
                   "frame pointers: names the callers of code built without them (libc), at a "
                   "higher cost; x86_64 and Linux 5.15+ only"),
    WAKETRACE_OPTION_(dwarf_ring_bytes)
        .on_command_line("dwarf-ring-size", '\0', "BYTES")
        .within(1, kMaxDwarfRingBytes)
        .only(detail::power_of_two_pages)
        .or_zero("sized for the machine: 4096 copies per CPU, at least 8192, at most 32 MiB")
        .described("the ring buffer that carries the user stack copies to the unwinding "
                   "thread; copies that find it full are counted as lost: raise it for bursts"),
    WAKETRACE_FLAG_OPTION_(follow_children, WT_OPT_FOLLOW_CHILDREN)
        .on_command_line("children", '\0', "")
        .read_by_bpf()
        .described("trace the processes the traced pids fork, from their fork on (always on for a "
                   "COMMAND)"),
    WAKETRACE_FLAG_OPTION_(no_waker_user_stacks, WT_OPT_NO_WAKER_USER_STACKS)
        .on_command_line("no-waker-user-stacks", '\0', "")
        .read_by_bpf()
        .described("take only the kernel stacks of the wakers: who woke each thread and through "
                   "which kernel path, without walking their user stacks (in DWARF mode, without "
                   "copying and unwinding them: up to half the copies)"),
    WAKETRACE_FLAG_OPTION_(offcpu, WT_OPT_OFFCPU)
        .on_command_line("offcpu", '\0', "")
        .read_by_bpf()
        .described("offcputime: the off-CPU stacks of each thread, without wakers; wakings are not "
                   "traced, so there is no blocked/runqueue split, and each switch costs less"),
    WAKETRACE_FLAG_OPTION_(wakeup, WT_OPT_WAKEUP)
        .on_command_line("wakeup", '\0', "")
        .read_by_bpf()
        .described("wakeuptime: the stacks of the wakers, summed per woken thread with the time it "
                   "was blocked (switch-out to waking); the woken threads' stacks are not taken"),
    WAKETRACE_FLAG_OPTION_(histograms, WT_OPT_HISTOGRAMS)
        .on_command_line("histograms", 'H', "")
        .read_by_bpf()
        .described("keep a log2 histogram of each chain's off-CPU periods and of its runqueue "
                   "waits (microseconds), printed under each chain in the text layout"),
    WAKETRACE_FLAG_OPTION_(events, WT_OPT_EVENTS)
        .on_command_line("events", '\0', "")
        .read_by_bpf()
        .described("deliver every off-CPU period on its own as it ends: its thread, timestamps, "
                   "state, waker and stacks (the command prints a line per event as it comes)"),
    WAKETRACE_OPTION_(events_ring_bytes)
        .on_command_line("events-ring-size", '\0', "BYTES")
        .within(1, kMaxDwarfRingBytes)
        .only(detail::power_of_two_pages)
        .or_zero("room for 32768 events per CPU, at most 64 MiB")
        .described("the ring buffer that carries each off-CPU period to the reader of events; "
                   "events that find it full are counted as lost"),
    WAKETRACE_OPTION_(trigger_blocked_ms)
        .on_command_line("trigger-blocked", '\0', "MS")
        .described("with events, mark every period off CPU for at least this many milliseconds, "
                   "decided in the kernel (the command keeps the last seconds of events and writes "
                   "them, with that wait's wake chain, whenever one ends); 0: none"),
};

#undef WAKETRACE_OPTION_
#undef WAKETRACE_OPTIONAL_OPTION_
#undef WAKETRACE_FLAG_OPTION_

// The row named `name` (a Config member), or nullptr.
inline const Option* find(std::string_view name) {
    for (const Option& option : table)
        if (option.name == name)
            return &option;
    return nullptr;
}

// Config's default; nullopt for an optional number.
inline std::optional<uint64_t> default_value(const Option& option) { return option.get(Config{}); }

// Within min..max and the rule: what the command line takes.
inline bool within_bounds(const Option& option, uint64_t value) {
    return value >= option.min && value <= option.max && (!option.rule || option.rule->accepts(value));
}

// What Config takes: within bounds, or 0 where 0 has a meaning.
inline bool accepts(const Option& option, uint64_t value) {
    return (value == 0 && !option.zero_means.empty()) || within_bounds(option, value);
}

// The values within bounds, in words: "1 to 100", "at least 1", a rule's
// words; empty when any value of the member's type will do.
inline std::string bounds_text(const Option& option) {
    if (option.rule)
        return option.rule->describe();
    if (option.max < option.type_max)
        return std::to_string(option.min) + " to " + std::to_string(option.max);
    if (option.min > 0)
        return "at least " + std::to_string(option.min);
    return {};
}

// Why Config cannot take `value`, naming the option as `spelling` (the
// library says its name, bindings their own); empty when it can.
inline std::string problem(const Option& option, std::string_view spelling, uint64_t value) {
    if (accepts(option, value))
        return {};
    return std::string(spelling) + " must be " + (option.zero_means.empty() ? "" : "0 or ") +
           bounds_text(option) + ", not " + std::to_string(value);
}

namespace detail {

constexpr bool distinct_names() {
    for (size_t i = 0; i < std::size(table); ++i)
        for (size_t j = i + 1; j < std::size(table); ++j)
            if (table[i].name == table[j].name || table[i].cli_long == table[j].cli_long ||
                (table[i].cli_short && table[i].cli_short == table[j].cli_short) ||
                (table[i].c_flag && table[i].c_flag == table[j].c_flag))
                return false;
    return true;
}
static_assert(distinct_names(), "each option has its own name, command-line spellings and C flag bit");

constexpr bool sane_rows() {
    for (const Option& option : table)
        if (option.name.empty() || option.help.empty() || option.cli_long.empty() ||
            option.min > option.max || option.max > option.type_max ||
            (option.kind == Kind::flag) != option.value_name.empty() ||
            (option.kind == Kind::flag && (option.min != 0 || option.max != 1)))
            return false;
    return true;
}
static_assert(sane_rows(), "every option has a name, help, a command-line name and sane bounds");

}  // namespace detail

}  // namespace waketrace::options
