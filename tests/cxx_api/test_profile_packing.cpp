// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C binding's packing of a Profile (bindings/c/profile_packing.cpp) read
// back through the installed C++ layer (waketrace/c_bridge.hpp), without
// privileges: the C structs must carry every waker level, its blocked stacks
// (NULL where there is no deeper level), overlaps, how the chain ends and the
// chain losses, and profile_from() must give back the Profile that was packed.
// The C functions are compiled into this test (not taken from
// libwaketrace.so), so it can pack profiles of its own making.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "builders.hpp"
#include "format/format.hpp"
#include "profile_packing.hpp"
#include "waketrace/c_bridge.hpp"

namespace wt = waketrace;
using namespace waketrace::test;

namespace {

struct Unpack {
    void operator()(wt_profile* profile) const noexcept { wt::c_api::free_profile(profile); }
};
using Packed = std::unique_ptr<wt_profile, Unpack>;

Packed pack(const wt::Profile& profile) { return Packed(wt::c_api::pack_profile(profile)); }

wt::Profile relay_profile() {
    wt::Profile profile = profile_of({relay_chain(1), relay_chain(2, wt::ChainEnd::waker_lost),
                                      relay_chain(3), relay_chain(2, wt::ChainEnd::depth_reached)});
    profile.losses.hop_map_full = 5;
    profile.losses.chain_states_full = 7;
    profile.losses.hop_collisions = 11;
    profile.losses.untraced_children = 13;
    profile.losses.missed_switch_ins = 13;
    profile.chains[2].wakers[1].outside_filters = true;  // relay-1: not among the pids
    return profile;
}

std::string frame_names(const wt_stack& stack) {
    std::string names;
    for (size_t i = 0; i < stack.nr_frames; ++i)
        names += std::string(i ? ";" : "") + (stack.frames[i].symbol ? stack.frames[i].symbol : "?");
    return names;
}

std::string frame_names(const wt::Stack& stack) {
    std::string names;
    for (const wt::Frame& frame : stack.frames)
        names += (names.empty() ? "" : ";") + frame.symbol;
    return names;
}

void check_same_stack(const wt::Stack& back, const wt::Stack& sent) {
    CHECK(back.status == sent.status);
    CHECK(back.error == sent.error);
    CHECK(frame_names(back) == frame_names(sent));
}

void check_same_chain(const wt::WakeChain& back, const wt::WakeChain& sent) {
    CHECK(back.target.tid == sent.target.tid);
    CHECK(back.target.comm == sent.target.comm);
    check_same_stack(back.kernel_stack, sent.kernel_stack);
    check_same_stack(back.user_stack, sent.user_stack);
    CHECK(back.end == sent.end);
    CHECK(back.total_ns == sent.total_ns);
    CHECK(back.blocked_ns == sent.blocked_ns);
    REQUIRE(back.wakers.size() == sent.wakers.size());
    for (size_t level = 0; level < sent.wakers.size(); ++level) {
        CAPTURE(level);
        const wt::Waker& got = back.wakers[level];
        const wt::Waker& want = sent.wakers[level];
        CHECK(got.context == want.context);
        CHECK(got.task.tid == want.task.tid);
        CHECK(got.task.comm == want.task.comm);
        CHECK(got.overlap_ns == want.overlap_ns);
        CHECK(got.outside_filters == want.outside_filters);
        check_same_stack(got.kernel_stack, want.kernel_stack);
        check_same_stack(got.user_stack, want.user_stack);
        check_same_stack(got.blocked_kernel_stack, want.blocked_kernel_stack);
        check_same_stack(got.blocked_user_stack, want.blocked_user_stack);
    }
}

}  // namespace

TEST_CASE("C structs carry every waker level, its blocked stacks, overlap and the chain's end") {
    const wt::Profile sent = relay_profile();
    const Packed packed = pack(sent);
    REQUIRE(packed->nr_chains == 4);

    const wt_chain& three = packed->chains[2];
    CHECK(three.end == WT_CHAIN_COMPLETE);
    REQUIRE(three.nr_wakers == 3);
    CHECK(std::strcmp(three.wakers[0].task.comm, "relay-2") == 0);
    CHECK(three.wakers[1].task.tid == 301u);
    CHECK(three.wakers[2].context == WT_WAKER_HARDIRQ);
    CHECK(three.wakers[0].overlap_ns == 2000000u);
    CHECK(three.wakers[1].overlap_ns == 1900000u);
    CHECK(three.wakers[2].overlap_ns == 1850000u);
    CHECK(three.wakers[0].flags == 0u);
    CHECK(three.wakers[1].flags == WT_WAKER_F_OUTSIDE_FILTERS);
    // wakers[i].blocked_stacks: the wait wakers[i + 1] ended, kernel then user.
    REQUIRE(three.wakers[0].blocked_stacks != nullptr);
    CHECK(frame_names(three.wakers[0].blocked_stacks[0]) == "__schedule;schedule;relay2_pipe_read");
    CHECK(frame_names(three.wakers[0].blocked_stacks[1]) == "read;relay2_receive;relay2_main");
    REQUIRE(three.wakers[1].blocked_stacks != nullptr);
    CHECK(three.wakers[1].blocked_stacks[0].status == WT_STACK_OK);
    CHECK(frame_names(three.wakers[1].blocked_stacks[1]) == "clock_nanosleep;relay1_main");
    CHECK(three.wakers[2].blocked_stacks == nullptr);  // nothing deeper: the interrupt

    CHECK(packed->chains[0].end == WT_CHAIN_COMPLETE);
    CHECK(packed->chains[0].wakers[0].blocked_stacks == nullptr);  // depth 1, as before
    CHECK(packed->chains[1].end == WT_CHAIN_WAKER_LOST);
    CHECK(packed->chains[3].end == WT_CHAIN_DEPTH_REACHED);
    CHECK(packed->chains[3].wakers[1].blocked_stacks == nullptr);

    // Source lines of blocked frames are reachable like any other frame's.
    wt_source_location where{};
    where.sz = sizeof(where);
    CHECK(wt_frame_source(packed.get(), &three.wakers[1].blocked_stacks[0].frames[2], &where) == 0);
}

TEST_CASE("a last level whose own wait was caught keeps its blocked stacks") {
    // The chain ends there (its waker was lost), but where it blocked is known.
    wt::WakeChain lost_waker = relay_chain(1, wt::ChainEnd::waker_lost);
    lost_waker.wakers[0] =
        blocked_in(lost_waker.wakers[0], relay_read_user("relay2"), lost(wt::StackStatus::map_full));
    const Packed packed = pack(profile_of({lost_waker}));
    const wt_waker& waker = packed->chains[0].wakers[0];
    REQUIRE(waker.blocked_stacks != nullptr);
    CHECK(waker.blocked_stacks[0].status == WT_STACK_MAP_FULL);
    CHECK(frame_names(waker.blocked_stacks[1]) == "read;relay2_receive;relay2_main");
    check_same_chain(wt::c_bridge::profile_from(*packed).chains[0], lost_waker);
}

TEST_CASE("wt_profile_extra_losses reads the counters kept beside the profile") {
    const Packed packed = pack(relay_profile());
    wt_extra_losses losses{};
    losses.sz = sizeof(losses);
    REQUIRE(wt_profile_extra_losses(packed.get(), &losses) == 0);
    CHECK(losses.sz == sizeof(losses));
    CHECK(losses.chain_states_full == 7u);
    CHECK(losses.hop_map_full == 5u);
    CHECK(losses.hop_collisions == 11u);
    CHECK(losses.untraced_children == 13u);

    // A newer caller's larger struct gets its unknown tail zeroed.
    unsigned char newer[sizeof(wt_extra_losses) + 16];
    std::memset(newer, 0xff, sizeof(newer));
    wt_extra_losses header{};
    header.sz = sizeof(newer);
    std::memcpy(newer, &header, sizeof(header));
    REQUIRE(wt_profile_extra_losses(packed.get(), reinterpret_cast<wt_extra_losses*>(newer)) == 0);
    for (size_t i = sizeof(wt_extra_losses); i < sizeof(newer); ++i)
        CHECK(newer[i] == 0);

    losses.sz = offsetof(wt_extra_losses, untraced_children);  // ends before a 0.3 field
    CHECK(wt_profile_extra_losses(packed.get(), &losses) == -EINVAL);
    CHECK(std::string(wt_last_error()).find("out->sz") != std::string::npos);
    losses.sz = sizeof(losses);
    CHECK(wt_profile_extra_losses(nullptr, &losses) == -EINVAL);
    CHECK(wt_profile_extra_losses(packed.get(), nullptr) == -EINVAL);
}

TEST_CASE("c_bridge::profile_from gives back the Profile that was packed, levels and losses included") {
    const wt::Profile sent = relay_profile();
    const Packed packed = pack(sent);
    const wt::Profile back = wt::c_bridge::profile_from(*packed);
    REQUIRE(back.chains.size() == sent.chains.size());
    for (size_t i = 0; i < sent.chains.size(); ++i) {
        CAPTURE(i);
        check_same_chain(back.chains[i], sent.chains[i]);
    }
    CHECK(back.losses.chain_states_full == sent.losses.chain_states_full);
    CHECK(back.losses.hop_map_full == sent.losses.hop_map_full);
    CHECK(back.losses.hop_collisions == sent.losses.hop_collisions);
    CHECK(back.losses.untraced_children == sent.losses.untraced_children);
    CHECK(back.losses.missed_switch_ins == sent.losses.missed_switch_ins);
    CHECK(back.losses.total() == sent.losses.total());
}

TEST_CASE("wt_profile_format renders deep chains as the library's formats do") {
    const wt::Profile sent = relay_profile();
    const Packed packed = pack(sent);
    for (uint32_t layout : {WT_FORMAT_TEXT, WT_FORMAT_FOLDED}) {
        CAPTURE(layout);
        const std::unique_ptr<char, wt::c_bridge::FreeString> text(
            wt_profile_format(packed.get(), layout, WT_STACKS_BOTH));
        REQUIRE(text);
        const std::string expected =
            layout == WT_FORMAT_TEXT ? wt::format_text(sent, {}) : wt::format_folded(sent, {});
        CHECK(text.get() == expected);
        CHECK(expected.find("[waker's wait lost]") != std::string::npos);
        CHECK(expected.find("[deeper wakers not traced]") != std::string::npos);
    }
}

TEST_CASE(
    "wt_profile_format WT_FORMAT_SVG: the library's flame graph, opening on the metric its flag names") {
    const wt::Profile sent = relay_profile();
    const Packed packed = pack(sent);
    const std::pair<uint32_t, wt::FlameMetric> cases[] = {{0, wt::FlameMetric::total},
                                                          {WT_FORMAT_BY_BLOCKED, wt::FlameMetric::blocked},
                                                          {WT_FORMAT_BY_RUNQUEUE, wt::FlameMetric::runqueue}};
    for (const auto& [flags, metric] : cases) {
        CAPTURE(flags);
        const std::unique_ptr<char, wt::c_bridge::FreeString> svg(wt_profile_format(
            packed.get(), WT_FORMAT_SVG | WT_FORMAT_DELIMITER | flags, WT_STACKS_KERNEL_ONLY));
        REQUIRE(svg);
        wt::FlameGraphOptions options;
        options.format = {wt::StackKinds::kernel_only, true};
        options.metric = metric;
        CHECK(svg.get() == wt::format_flamegraph_svg(sent, options));
    }
    // Both metric flags, or one on another layout: refused.
    for (const uint32_t format :
         {WT_FORMAT_SVG | WT_FORMAT_BY_BLOCKED | WT_FORMAT_BY_RUNQUEUE, WT_FORMAT_TEXT | WT_FORMAT_BY_BLOCKED,
          WT_FORMAT_FOLDED | WT_FORMAT_BY_RUNQUEUE, uint32_t(WT_FORMAT_PPROF + 1)}) {
        CAPTURE(format);
        errno = 0;
        CHECK(wt_profile_format(packed.get(), format, WT_STACKS_BOTH) == nullptr);
        CHECK(errno == EINVAL);
    }
}

TEST_CASE("wt_profile_format WT_FORMAT_PER_PROCESS / WT_FORMAT_PER_THREAD name tasks in every layout") {
    wt::Profile sent = relay_profile();
    for (wt::WakeChain& chain : sent.chains) {
        chain.target.tgid = 300;  // the relay's threads, one process
        for (wt::Waker& waker : chain.wakers)
            waker.task.tgid = 300;
    }
    const Packed packed = pack(sent);
    const std::pair<uint32_t, wt::TaskNames> cases[] = {{WT_FORMAT_PER_PROCESS, wt::TaskNames::per_process},
                                                        {WT_FORMAT_PER_THREAD, wt::TaskNames::per_thread}};
    for (const auto& [flag, names] : cases) {
        for (uint32_t layout : {WT_FORMAT_TEXT, WT_FORMAT_FOLDED, WT_FORMAT_SVG}) {
            CAPTURE(flag, layout);
            const std::unique_ptr<char, wt::c_bridge::FreeString> text(
                wt_profile_format(packed.get(), layout | flag, WT_STACKS_BOTH));
            REQUIRE(text);
            const wt::FormatOptions options{wt::StackKinds::both, false, names};
            wt::FlameGraphOptions flame;
            flame.format = options;
            const std::string expected = layout == WT_FORMAT_TEXT ? wt::format_text(sent, options)
                                         : layout == WT_FORMAT_FOLDED
                                             ? wt::format_folded(sent, options)
                                             : wt::format_flamegraph_svg(sent, flame);
            CHECK(text.get() == expected);
            CHECK(expected.find(names == wt::TaskNames::per_process ? "relay-3-300" : "relay-3-300/303") !=
                  std::string::npos);
        }
    }
    errno = 0;
    CHECK(wt_profile_format(packed.get(), WT_FORMAT_FOLDED | WT_FORMAT_PER_PROCESS | WT_FORMAT_PER_THREAD,
                            WT_STACKS_BOTH) == nullptr);
    CHECK(errno == EINVAL);
}

TEST_CASE(
    "wt_profile_format_bytes WT_FORMAT_PPROF: the library's pprof, file offsets and build-ids included") {
    wt::Profile sent = relay_profile();
    wt::Frame in_library;
    in_library.address = 0x7f0000001234;
    in_library.module = "/usr/lib/librelay.so";
    in_library.symbol = "relay_send";
    in_library.file_offset = 0x1234;
    in_library.build_id = "feedface";
    sent.chains[0].user_stack.frames.insert(sent.chains[0].user_stack.frames.begin(), in_library);
    const Packed packed = pack(sent);

    size_t size = 0;
    const std::unique_ptr<char, wt::c_bridge::FreeString> bytes(
        wt_profile_format_bytes(packed.get(), WT_FORMAT_PPROF, WT_STACKS_BOTH, &size));
    REQUIRE(bytes);
    const std::string written(bytes.get(), size);
    CHECK(written == wt::format_pprof(sent, {}));
    // What wt_frame alone carries would make another profile: the block
    // kept the rest.
    CHECK(written != wt::format_pprof(wt::c_bridge::profile_from(*packed), {}));

    // Binary: not through the NUL-terminated function.
    errno = 0;
    CHECK(wt_profile_format(packed.get(), WT_FORMAT_PPROF, WT_STACKS_BOTH) == nullptr);
    CHECK(errno == EINVAL);
    CHECK(std::string(wt_last_error()).find("wt_profile_format_bytes") != std::string::npos);
    errno = 0;
    CHECK(wt_profile_format_bytes(packed.get(), WT_FORMAT_PPROF, WT_STACKS_BOTH, nullptr) == nullptr);
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(wt_profile_format_bytes(packed.get(), WT_FORMAT_PPROF | WT_FORMAT_BY_BLOCKED, WT_STACKS_BOTH,
                                  &size) == nullptr);
    CHECK(errno == EINVAL);

    // The text layouts come out the same as from wt_profile_format.
    const std::unique_ptr<char, wt::c_bridge::FreeString> folded(
        wt_profile_format_bytes(packed.get(), WT_FORMAT_FOLDED, WT_STACKS_BOTH, &size));
    REQUIRE(folded);
    CHECK(std::string(folded.get(), size) == wt::format_folded(sent, {}));
    CHECK(folded.get()[size] == '\0');
}

namespace {

// Chains 1 and 3 with histograms of known counts, the others without.
wt::Profile histogram_profile() {
    wt::Profile profile = relay_profile();
    for (size_t i : {size_t(1), size_t(3)})
        for (size_t bucket = 0; bucket < wt::LatencyHistogram::kBuckets; ++bucket) {
            profile.chains[i].histogram.off_cpu[bucket] = 1000 * i + bucket;
            profile.chains[i].histogram.runqueue[bucket] = 2000 * i + bucket;
        }
    profile.losses.histogram_map_full = 17;
    return profile;
}

}  // namespace

TEST_CASE("wt_chain_histogram reads each chain's histograms out of the profile") {
    const wt::Profile sent = histogram_profile();
    const Packed packed = pack(sent);
    REQUIRE(packed->nr_chains == sent.chains.size());
    for (size_t i = 0; i < sent.chains.size(); ++i) {
        CAPTURE(i);
        wt_latency_histogram histogram{};
        histogram.sz = sizeof(histogram);
        REQUIRE(wt_chain_histogram(packed.get(), &packed->chains[i], &histogram) == 0);
        CHECK(histogram.sz == sizeof(histogram));
        for (size_t bucket = 0; bucket < WT_HISTOGRAM_NR_BUCKETS; ++bucket) {
            CHECK(histogram.off_cpu[bucket] == sent.chains[i].histogram.off_cpu[bucket]);
            CHECK(histogram.runqueue[bucket] == sent.chains[i].histogram.runqueue[bucket]);
        }
    }
    // Through the C++ layer, with the loss.
    const wt::Profile back = wt::c_bridge::profile_from(*packed);
    for (size_t i = 0; i < sent.chains.size(); ++i) {
        CHECK(back.chains[i].histogram.off_cpu == sent.chains[i].histogram.off_cpu);
        CHECK(back.chains[i].histogram.runqueue == sent.chains[i].histogram.runqueue);
    }
    CHECK(back.losses.histogram_map_full == 17u);
    CHECK(back.losses.total() == sent.losses.total());

    // Bad arguments.
    wt_latency_histogram histogram{};
    histogram.sz = sizeof(histogram);
    const wt_chain outside = packed->chains[0];
    CHECK(wt_chain_histogram(packed.get(), &outside, &histogram) == -EINVAL);
    CHECK(std::string(wt_last_error()).find("not part of this profile") != std::string::npos);
    CHECK(wt_chain_histogram(nullptr, &packed->chains[0], &histogram) == -EINVAL);
    CHECK(wt_chain_histogram(packed.get(), nullptr, &histogram) == -EINVAL);
    CHECK(wt_chain_histogram(packed.get(), &packed->chains[0], nullptr) == -EINVAL);
    histogram.sz = offsetof(wt_latency_histogram, runqueue);
    CHECK(wt_chain_histogram(packed.get(), &packed->chains[0], &histogram) == -EINVAL);
}

TEST_CASE("wt_chain_histogram: a profile without histograms gives zeros") {
    const Packed packed = pack(relay_profile());
    wt_latency_histogram histogram;
    std::memset(&histogram, 0xff, sizeof(histogram));
    histogram.sz = sizeof(histogram);
    REQUIRE(wt_chain_histogram(packed.get(), &packed->chains[2], &histogram) == 0);
    for (size_t bucket = 0; bucket < WT_HISTOGRAM_NR_BUCKETS; ++bucket) {
        CHECK(histogram.off_cpu[bucket] == 0);
        CHECK(histogram.runqueue[bucket] == 0);
    }
}

TEST_CASE(
    "wt_profile_extra_losses: histogram_map_full (0.4) for a caller that knows it, not past an older sz") {
    const Packed packed = pack(histogram_profile());
    wt_extra_losses losses{};
    losses.sz = sizeof(losses);
    REQUIRE(wt_profile_extra_losses(packed.get(), &losses) == 0);
    CHECK(losses.histogram_map_full == 17u);
    // A 0.3 caller's struct ends before the field: it is neither written nor refused.
    std::memset(&losses, 0xff, sizeof(losses));
    losses.sz = offsetof(wt_extra_losses, histogram_map_full);
    REQUIRE(wt_profile_extra_losses(packed.get(), &losses) == 0);
    CHECK(losses.untraced_children == 13u);
    CHECK(losses.histogram_map_full == UINT64_MAX);
}

TEST_CASE("wt_profile_format shows the histograms in the text layout") {
    const wt::Profile sent = histogram_profile();
    const Packed packed = pack(sent);
    const std::unique_ptr<char, wt::c_bridge::FreeString> text(
        wt_profile_format(packed.get(), WT_FORMAT_TEXT, WT_STACKS_BOTH));
    REQUIRE(text);
    wt::FormatOptions options;
    options.histograms = true;
    CHECK(text.get() == wt::format_text(sent, options));
    CHECK(std::string(text.get()).find("off-CPU usecs") != std::string::npos);
}
