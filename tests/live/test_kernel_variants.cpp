// SPDX-License-Identifier: LGPL-2.1-or-later
// Kernel differences, exercised on this kernel by overriding what the probe
// found: sched_switch without prev_state (before 5.18) reads the task's state
// through CO-RE instead; without bpf_task_pt_regs (before 5.15) user stacks
// are the kernel's own frame-pointer walk instead of the program's. And the
// probe's own reading of the kernel's BTF.
#include <catch2/catch.hpp>

#include <bpf/btf.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "assemble/profile_builder.hpp"
#include "capture/kernel_probe.hpp"
#include "capture/loader.hpp"
#include "chain_queries.hpp"
#include "decode/records.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
namespace detail = waketrace::detail;
using namespace std::chrono_literals;

namespace {

template <typename Workload>
wt::Profile capture_with(const wt::Config& config, const detail::KernelFeatures& features, Workload& work) {
    detail::BpfCapture capture(config, features);
    capture.attach();
    work.run();
    capture.detach();
    detail::Symbolizer symbolizer;
    return detail::build_profile(detail::decode_profile(capture), detail::to_losses(capture.drops()),
                                 config.stack_sample_percent, wt::capture_mode(config), symbolizer);
}

// The user stack addresses (inlined frames left out: they repeat their
// caller's) of every blocking read of the pipe workload's reader, and of the
// writer that woke it.
struct PipeStacks {
    std::vector<std::vector<uint64_t>> reader;
    std::vector<std::vector<uint64_t>> writer;
    uint64_t reads = 0;
    std::string chains;  // the reader's, for failure messages
};

std::vector<uint64_t> addresses(const wt::Stack& stack) {
    std::vector<uint64_t> found;
    for (const wt::Frame& frame : stack.frames)
        if (!frame.inlined)
            found.push_back(frame.address);
    return found;
}

PipeStacks pipe_stacks_with(const detail::KernelFeatures& features) {
    wt::test::PipeTokenPass work(3, 10ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    const wt::Profile profile = capture_with(config, features, work);
    INFO(wt::test::describe(profile.losses));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
    PipeStacks stacks;
    stacks.chains = wt::test::describe_chains(profile, uint32_t(work.reader_tid()));
    INFO(stacks.chains);
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, work.reader_tid())) {
        if (!wt::test::has_frame(chain->kernel_stack, "pipe_read") ||
            chain->wakers[0].context != wt::WakerContext::task)
            continue;
        stacks.reads += chain->count;
        CHECK(wt::test::has_frame(chain->user_stack, "PipeTokenPass"));
        CHECK(wt::test::has_frame(chain->wakers[0].user_stack, "PipeTokenPass"));
        stacks.reader.push_back(addresses(chain->user_stack));
        stacks.writer.push_back(addresses(chain->wakers[0].user_stack));
    }
    return stacks;
}

bool is_prefix(const std::vector<uint64_t>& prefix, const std::vector<uint64_t>& whole) {
    return prefix.size() <= whole.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

}  // namespace

TEST_CASE("the program's own frame-pointer walk finds the stacks the kernel's walk finds") {
    detail::KernelFeatures features = detail::probe_kernel();
    if (!features.task_pt_regs) {
        WARN("this kernel has no bpf_task_pt_regs: only the kernel's walk runs here");
        return;
    }
    const PipeStacks own = pipe_stacks_with(features);
    features.task_pt_regs = false;
    const PipeStacks kernels = pipe_stacks_with(features);

    // One stack each way for the reader and one for the writer: the same
    // code ran each time. (That every read is counted is the pipe tests'
    // business; here the stacks are.)
    INFO("own walk:\n" << own.chains << "kernel's walk:\n" << kernels.chains);
    CHECK(own.reads >= 1);
    CHECK(kernels.reads >= 1);
    REQUIRE(own.reader.size() == 1);
    REQUIRE(kernels.reader.size() == 1);
    // Where a frame pointer holds no chain (a libc frame built without
    // them, above the thread's start) the kernel walks on into whatever it
    // points at, and the program stops: the program's stack is the kernel's
    // or a prefix of it, and both reach the workload's functions.
    CHECK(is_prefix(own.reader[0], kernels.reader[0]));
    CHECK(is_prefix(own.writer[0], kernels.writer[0]));
}

TEST_CASE("without sched_switch's prev_state the task state is read through CO-RE") {
    detail::KernelFeatures features = detail::probe_kernel();
    features.switch_prev_state = false;

    wt::test::VforkWait vfork_work(3, 10ms);
    wt::test::PipeTokenPass pipe_work(3, 10ms);
    wt::test::Together<wt::test::VforkWait, wt::test::PipeTokenPass> both{vfork_work, pipe_work};
    wt::Config config;
    config.tids = {uint32_t(vfork_work.parent_tid()), uint32_t(pipe_work.reader_tid())};
    config.state_mask = 2;
    const wt::Profile profile = capture_with(config, features, both);

    // Interruptible pipe waits are filtered out (the reader may still have a
    // genuinely uninterruptible wait, e.g. a page fault under ASan).
    CHECK(wt::test::count_blocked_in(profile, pipe_work.reader_tid(), "pipe_read") == 0);
    // Every vfork wait, bar one whose switch-in the kernel did not report
    // (counted as lost; seen under ASan on a virtualised host).
    INFO(wt::test::describe_chains(profile, uint32_t(vfork_work.parent_tid())));
    INFO(wt::test::describe(profile.losses));
    const uint64_t vfork_waits = wt::test::count_blocked_in(profile, vfork_work.parent_tid(), "vfork");
    CHECK(wt::test::unaccounted_rounds(vfork_waits, 3, profile.losses) == "");
}

TEST_CASE("the streamed BTF scan answers what libbpf's whole parse answers") {
    std::unique_ptr<btf, void (*)(btf*)> parsed(btf__load_vmlinux_btf(), btf__free);
    REQUIRE(parsed);
    const detail::BtfFacts expected = detail::btf_facts_from(parsed.get());
    // This kernel (6.18) has all of them; an older one would not.
    CHECK(expected.sched_switch_typedef);
    CHECK(expected.sched_switch_params == 5);
    CHECK(expected.task_pt_regs_helper);
    CHECK(expected.bpf_mem_alloc);

    // A tiny odd-sized read crosses every string and record boundary.
    for (size_t chunk : {size_t(13), size_t(4096), size_t(64 * 1024)}) {
        INFO("chunk " << chunk);
        const std::optional<detail::BtfFacts> scanned =
            detail::scan_btf_file("/sys/kernel/btf/vmlinux", chunk);
        REQUIRE(scanned);
        CHECK(scanned->sched_switch_typedef == expected.sched_switch_typedef);
        CHECK(scanned->sched_switch_params == expected.sched_switch_params);
        CHECK(scanned->sched_waking_typedef == expected.sched_waking_typedef);
        CHECK(scanned->kasan_report == expected.kasan_report);
        CHECK(scanned->task_pt_regs_helper == expected.task_pt_regs_helper);
        CHECK(scanned->bpf_mem_alloc == expected.bpf_mem_alloc);
    }
}

TEST_CASE("a file that is not BTF is left to libbpf") {
    CHECK_FALSE(detail::scan_btf_file("/proc/self/status"));
    CHECK_FALSE(detail::scan_btf_file("/nonexistent/vmlinux"));
}
