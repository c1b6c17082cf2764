// Kernel differences, exercised on this kernel by overriding what the probe
// found: sched_switch without prev_state (before 5.18) reads the task's state
// through CO-RE instead.
#include <catch2/catch.hpp>

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
                                 config.stack_sample_percent, symbolizer);
}

}  // namespace

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
    CHECK(wt::test::count_blocked_in(profile, vfork_work.parent_tid(), "vfork") == 3);
}
