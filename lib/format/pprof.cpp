// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A Profile as a pprof profile: one sample per chain, the target's frames
// innermost first, then each waker level behind a "--" location, as the
// folded layout orders what follows its target. See format.hpp.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "format/format.hpp"
#include "format/gzip.hpp"
#include "format/pprof_tables.hpp"
#include "format/stack_walk.hpp"

namespace waketrace {
namespace {

using format_internal::FrameOrder;
using format_internal::PartOrder;
using format_internal::PprofTables;

struct SampleType {
    const char* type;
    const char* unit;
};
// pprof's convention puts the count of events first; offcpu is the default.
constexpr SampleType kSampleTypes[] = {
    {"periods", "count"}, {"offcpu", "nanoseconds"}, {"blocked", "nanoseconds"}, {"runqueue", "nanoseconds"}};
constexpr const char* kDefaultSampleType = "offcpu";

int64_t saturated(uint64_t value) {
    return int64_t(std::min<uint64_t>(value, uint64_t(std::numeric_limits<int64_t>::max())));
}

// Appends the locations of one thread's stacks, kernel then user, innermost
// first. Frames of one address (the functions inlined there, then the one
// holding them) become one location.
class StackAppender {
public:
    StackAppender(PprofTables& tables, const FormatOptions& shown, pprof::Sample& sample)
        : tables_(tables), shown_(shown), sample_(sample) {}

    void stacks(const Stack& user, const Stack& kernel) {
        format_internal::walk_stack_entries(shown_, user, kernel, PartOrder::kernel_then_user,
                                            FrameOrder::leaf_first,
                                            [&](const Frame* frame, std::string_view marker) {
                                                if (!frame) {
                                                    flush();
                                                    name(marker);
                                                } else {
                                                    if (!continues_pending(*frame))
                                                        flush();
                                                    pending_.push_back(frame);
                                                }
                                            });
        flush();
    }

    void name(std::string_view text) { sample_.add_location_id(tables_.name_location(text)); }

private:
    // Whether `frame` belongs with the frames waiting: they are inlined
    // into it (or into each other) at its address.
    bool continues_pending(const Frame& frame) const {
        return !pending_.empty() && pending_.back()->inlined && pending_.back()->address == frame.address;
    }

    void flush() {
        if (pending_.empty())
            return;
        sample_.add_location_id(tables_.frames_location(pending_));
        pending_.clear();
    }

    PprofTables& tables_;
    const FormatOptions& shown_;
    pprof::Sample& sample_;
    std::vector<const Frame*> pending_;
};

void add_label(PprofTables& tables, pprof::Sample& sample, const std::string& key, std::string_view text) {
    pprof::Label* label = sample.add_label();
    label->set_key(tables.string_id(key));
    label->set_str(tables.string_id(text));
}

void add_label(PprofTables& tables, pprof::Sample& sample, const std::string& key, uint64_t number) {
    pprof::Label* label = sample.add_label();
    label->set_key(tables.string_id(key));
    label->set_num(saturated(number));
}

// Labels of wakers[level]: "waker_..." for the first, "waker2_..." and on
// for deeper ones.
void add_waker_labels(PprofTables& tables, pprof::Sample& sample, const Waker& waker, size_t level) {
    const std::string prefix = level == 0 ? std::string("waker") : fmt::format("waker{}", level + 1);
    add_label(tables, sample, prefix + "_context", to_string(waker.context));
    if (waker.context != WakerContext::task)
        return;
    add_label(tables, sample, prefix + "_comm", format_internal::task_name(waker.task));
    add_label(tables, sample, prefix + "_tid", waker.task.tid);
    add_label(tables, sample, prefix + "_pid", waker.task.tgid);
}

void add_sample(PprofTables& tables, const FormatOptions& shown, const WakeChain& chain,
                pprof::Sample& sample) {
    StackAppender append(tables, shown, sample);
    const Waker& waker = format_internal::first_waker(chain);
    const std::string_view separator = format_internal::chain_separator;

    append.stacks(chain.user_stack, chain.kernel_stack);
    // An offcpu profile has no wakers: its samples are the target's frames.
    if (!chain.wakers.empty()) {
        append.name(separator);
        append.stacks(waker.user_stack, waker.kernel_stack);
        append.name(waker_name(waker));
    }
    for (size_t level = 1; level < chain.wakers.size(); ++level) {
        const Waker& woken = chain.wakers[level - 1];
        const Waker& deeper = chain.wakers[level];
        append.name(separator);
        append.stacks(woken.blocked_user_stack, woken.blocked_kernel_stack);
        append.name(separator);
        append.stacks(deeper.user_stack, deeper.kernel_stack);
        append.name(waker_name(deeper));
    }
    if (chain.end != ChainEnd::complete) {
        append.name(separator);
        append.name(chain_end_marker(chain.end));
    }

    for (uint64_t value : {chain.count, chain.total_ns, chain.blocked_ns, chain.runqueue_ns})
        sample.add_value(saturated(value));

    add_label(tables, sample, "target_comm", format_internal::task_name(chain.target));
    add_label(tables, sample, "target_tid", chain.target.tid);
    add_label(tables, sample, "pid", chain.target.tgid);
    for (size_t level = 0; level < chain.wakers.size(); ++level)
        add_waker_labels(tables, sample, chain.wakers[level], level);
    if (chain.end != ChainEnd::complete)
        add_label(tables, sample, "chain_end", to_string(chain.end));
}

void add_header(PprofTables& tables, const Profile& profile, const PprofOptions& options,
                pprof::Profile& out) {
    for (const SampleType& type : kSampleTypes) {
        pprof::ValueType* value_type = out.add_sample_type();
        value_type->set_type(tables.string_id(type.type));
        value_type->set_unit(tables.string_id(type.unit));
    }
    out.set_default_sample_type(tables.string_id(kDefaultSampleType));
    out.set_time_nanos(options.time_nanos);
    out.set_duration_nanos(saturated(profile.duration_ns));
    out.add_comment(tables.string_id(
        "waketrace: one sample per wake chain: the target's frames, innermost first, then \"--\" and the "
        "frames of the waker that woke it, from the wake-up outward, then its name (and so on for each "
        "deeper waker level)"));
    if (profile.stack_sample_percent != 100)
        out.add_comment(tables.string_id(
            fmt::format("waketrace: stacks taken for {}% of blocking events; values are scaled-up estimates",
                        profile.stack_sample_percent)));
}

}  // namespace

std::string format_pprof(const Profile& profile, const PprofOptions& options) {
    pprof::Profile out;
    PprofTables tables(out);
    add_header(tables, profile, options, out);
    const FormatOptions shown{options.stacks, false};
    for (const WakeChain& chain : profile.chains)
        add_sample(tables, shown, chain, *out.add_sample());
    tables.finish_mappings();
    std::string encoded;
    if (!out.SerializeToString(&encoded))
        throw std::bad_alloc();  // only a message above 2 GiB fails to encode
    return format_internal::gzip(encoded);
}

}  // namespace waketrace
