// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The installed C++ API (waketrace/profiler.hpp, header-only over the C ABI)
// over a real workload: what its Profile holds must be what the workload
// did, as the engine's own tests check it, and its errors must carry the
// library's errno and advice. Linked against libwaketrace.so alone.
#include <catch2/catch.hpp>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chain_queries.hpp"
#include "waketrace/profiler.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
using namespace std::chrono_literals;

namespace {

// The pipe waits of the reader: blocking ones, not preemptions inside the
// read path.
std::vector<const wt::WakeChain*> pipe_waits(const wt::Profile& profile, pid_t reader) {
    std::vector<const wt::WakeChain*> found;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, reader))
        if (wt::test::has_frame(chain->kernel_stack, "pipe_read") &&
            chain->wakers.at(0).context != wt::WakerContext::preempted)
            found.push_back(chain);
    return found;
}

uint64_t count_of(const std::vector<const wt::WakeChain*>& chains) {
    uint64_t count = 0;
    for (const wt::WakeChain* chain : chains)
        count += chain->count;
    return count;
}

// Runs `body` and returns the waketrace::Error it throws; fails if it throws none.
template <typename Body>
wt::Error error_of(Body&& body) {
    try {
        body();
    } catch (const wt::Error& error) {
        return error;
    }
    FAIL("no waketrace::Error thrown");
    throw std::logic_error("unreachable");
}

std::string gunzipped(const std::string& bytes) {
    z_stream stream{};
    REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);  // +16: gzip
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    stream.avail_in = uInt(bytes.size());
    std::string out;
    int status = Z_OK;
    while (status == Z_OK) {
        char chunk[4096];
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof chunk;
        status = inflate(&stream, Z_NO_FLUSH);
        out.append(chunk, sizeof chunk - stream.avail_out);
    }
    inflateEnd(&stream);
    CHECK(status == Z_STREAM_END);
    return out;
}

// The libc path of the last chain's user stack: a pprof mapping's file name.
std::string libc_path_of_last_chain(const wt::Profile& profile) {
    for (const wt::Frame& frame : profile.chains.back().user_stack.frames)
        if (frame.module.find("libc") != std::string::npos)
            return frame.module;
    return "no libc frame";
}

}  // namespace

TEST_CASE("public C++ API: a pipe token pass, profiled, converted and formatted through the C ABI") {
    constexpr int kRounds = 10;
    wt::test::PipeTokenPass work(kRounds, 20ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    wt::Profiler profiler(config);
    CHECK_FALSE(profiler.running());
    profiler.start();
    CHECK(profiler.running());
    CHECK(error_of([&] { profiler.start(); }).code().value() == EBUSY);
    work.run();
    profiler.stop();
    CHECK_FALSE(profiler.running());

    const wt::CapturedProfile captured = profiler.results();
    const wt::Profile& profile = captured.profile();
    for (const wt::WakeChain& chain : profile.chains)
        CHECK(chain.target.tid == uint32_t(work.reader_tid()));  // the tid filter held
    const std::vector<const wt::WakeChain*> waits = pipe_waits(profile, work.reader_tid());
    REQUIRE(!waits.empty());
    for (const wt::WakeChain* chain : waits) {
        REQUIRE(chain->wakers.size() == 1);
        const wt::Waker& waker = chain->wakers[0];
        CHECK(waker.context == wt::WakerContext::task);
        CHECK(waker.task.tid == uint32_t(work.writer_tid()));
        CHECK(waker.task.tgid == uint32_t(getpid()));
        CHECK(chain->target.tgid == uint32_t(getpid()));
        CHECK(wt::test::has_frame(waker.kernel_stack, "pipe_write"));
        CHECK(chain->kernel_stack.status == wt::StackStatus::ok);
        REQUIRE(chain->user_stack.status == wt::StackStatus::ok);
        REQUIRE(!chain->user_stack.frames.empty());
        CHECK(chain->user_stack.frames.front().module.find("libc") != std::string::npos);
        CHECK(chain->total_ns == chain->blocked_ns + chain->runqueue_ns);
        CHECK(chain->max_ns <= chain->total_ns);
    }
    CHECK(wt::test::unaccounted_rounds(count_of(waits), kRounds, profile.losses) == "");
    CHECK(double(wt::test::sum_blocked_ns(waits)) == Approx(double(work.reader_waited_ns())).epsilon(0.05));
    INFO(wt::test::describe(profile.losses));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);

    // Per-thread totals, and the span: at least the writer's sleeps.
    REQUIRE(profile.threads.size() == 1);
    CHECK(profile.threads[0].task.tid == uint32_t(work.reader_tid()));
    CHECK(profile.threads[0].count >= uint64_t(kRounds));
    CHECK(profile.stack_sample_percent == 100);
    CHECK(profile.duration_ns >= uint64_t(kRounds) * 20'000'000u);

    // Source lines come through wt_frame_source(): the workload is built
    // with -g, so the reader's own frames name their file and line.
    size_t frames_with_lines = 0;
    for (const wt::Frame& frame : waits.back()->user_stack.frames)
        if (frame.file.find("workloads.cpp") != std::string::npos && frame.line > 0)
            ++frames_with_lines;
    CHECK(frames_with_lines > 0);

    // The library renders its own copy: the same chains.
    const std::string folded = captured.folded(true);
    CHECK(folded.find("pipe_read;schedule;__schedule;--;try_to_wake_up") != std::string::npos);
    const std::string text = captured.text();
    CHECK(text.find("target:          " + profile.chains.back().target.comm + " " +
                    std::to_string(work.reader_tid()) + "\n") != std::string::npos);
    const std::string svg = captured.flamegraph_svg();
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<title>" + profile.chains.back().target.comm + "\n") != std::string::npos);
    CHECK(svg.find("pipe_write\n") != std::string::npos);  // anon_pipe_write on newer kernels
    // pprof(): binary bytes, NULs kept; profile.proto keeps its strings
    // as they are, so the gunzipped bytes hold the chain's names.
    const std::string pprof = captured.pprof();
    CHECK(pprof.rfind("\x1f\x8b", 0) == 0);  // gzip
    CHECK(pprof.find('\0') != std::string::npos);
    const std::string proto = gunzipped(pprof);
    for (const std::string& name :
         {profile.chains.back().target.comm, std::string("offcpu"), std::string("pipe_read"),
          std::string("--"), libc_path_of_last_chain(profile)})
        CHECK(proto.find(name) != std::string::npos);
    const wt::CapturedProfile copy = captured;
    CHECK(copy.folded(true) == folded);
    CHECK(copy.profile().chains.size() == profile.chains.size());

    // drain(): what results() saw, once; then nothing.
    const wt::Profile drained = profiler.drain().profile();
    CHECK(wt::test::unaccounted_rounds(count_of(pipe_waits(drained, work.reader_tid())), kRounds,
                                       drained.losses) == "");
    CHECK(profiler.drain().profile().chains.empty());
}

TEST_CASE("public C++ API: histograms through the C ABI (WT_OPT_HISTOGRAMS, wt_chain_histogram)") {
    constexpr int kRounds = 6;
    wt::test::PipeTokenPass work(kRounds, 3ms);
    wt::Config config;
    config.tids = {uint32_t(work.reader_tid())};
    config.histograms = true;
    wt::Profiler profiler(config);
    profiler.start();
    work.run();
    profiler.stop();
    const wt::CapturedProfile captured = profiler.results();
    const std::vector<const wt::WakeChain*> waits = pipe_waits(captured.profile(), work.reader_tid());
    REQUIRE(!waits.empty());
    for (const wt::WakeChain& chain : captured.profile().chains)
        CHECK(chain.histogram.count() == chain.count);
    // The writer's 3 ms sleeps: none shorter, none past 2^13 us.
    const wt::LatencyHistogram::Buckets& periods = waits[0]->histogram.off_cpu;
    const size_t three_ms = wt::LatencyHistogram::bucket_of(3'000'000);
    for (size_t bucket = 0; bucket < periods.size(); ++bucket)
        if (bucket < three_ms || bucket > three_ms + 1)
            CHECK(periods[bucket] == 0);
    CHECK(captured.text().find("off-CPU usecs : count    distribution") != std::string::npos);
}

TEST_CASE("public C++ API: the log function, moved profilers and a restart") {
    std::mutex mutex;
    std::vector<std::pair<wt::LogLevel, std::string>> messages;
    wt::test::PipeTokenPass first(3, 10ms);
    wt::Config config;
    config.tids = {uint32_t(first.reader_tid())};
    config.log = [&](wt::LogLevel level, std::string_view message) {
        {
            const std::lock_guard<std::mutex> lock(mutex);
            messages.emplace_back(level, std::string(message));
        }
        throw std::runtime_error("a log function that throws");  // must not reach the library
    };
    wt::Profiler original(config);
    original.start();
    {
        const std::lock_guard<std::mutex> lock(mutex);
        const auto attached = std::find_if(messages.begin(), messages.end(), [](const auto& message) {
            return message.second.find("attached to sched_switch") != std::string::npos;
        });
        REQUIRE(attached != messages.end());
        CHECK(attached->first == wt::LogLevel::info);
    }

    // Moved while running: the log context and the handle go along.
    wt::Profiler profiler = std::move(original);
    CHECK(profiler.running());
    CHECK_FALSE(original.running());
    CHECK(error_of([&] { original.results(); }).code().value() == EINVAL);
    first.run();
    profiler.stop();
    CHECK(count_of(pipe_waits(profiler.results().profile(), first.reader_tid())) == 3);

    // Started again: a new run, holding only what came after.
    wt::test::PipeTokenPass second(2, 10ms);
    wt::Config second_config;
    second_config.tids = {uint32_t(second.reader_tid())};
    wt::Profiler again(second_config);
    again.start();
    again.stop();
    again.start();
    second.run();
    again.stop();
    CHECK(count_of(pipe_waits(again.results().profile(), second.reader_tid())) == 2);
}

TEST_CASE("public C++ API: errors carry the errno and say what is wrong") {
    SECTION("results before start") {
        wt::Profiler profiler{wt::Config{}};
        const wt::Error error = error_of([&] { profiler.results(); });
        CHECK(error.code() == std::errc::invalid_argument);
        CHECK(error.message().find("never started") != std::string::npos);
    }
    SECTION("a config the library rejects, named as its field") {
        wt::Config config;
        config.stack_sample_percent = 101;
        const wt::Error error = error_of([&] { wt::Profiler{config}; });
        CHECK(error.errno_value() == EINVAL);
        CHECK(error.message().find("stack_sample_percent must be 1 to 100, not 101") != std::string::npos);
        // The errno's text once, as Error adds it to the library's message.
        const std::string what = error.what();
        CHECK(what.find(": Invalid argument") == what.size() - std::string(": Invalid argument").size());
        CHECK(what.find("Invalid argument") == what.rfind("Invalid argument"));
        CHECK_FALSE(error.hint().has_value());
    }
    SECTION("zero where the C ABI would read the default") {
        wt::Config config;
        config.max_chains = 0;
        CHECK(error_of([&] { wt::Profiler{config}; }).message().find("max_chains must be at least 1") !=
              std::string::npos);
    }
    SECTION("the idle task") {
        wt::Config config;
        config.tids = {0};
        CHECK(error_of([&] { wt::Profiler{config}; }).errno_value() == EINVAL);
    }
    SECTION("a thread that does not exist") {
        wt::Config config;
        uint32_t pid_max = 0;  // one more than the largest tid the kernel hands out
        std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
        REQUIRE(pid_max > 0);
        config.tids = {pid_max};
        wt::Profiler profiler(config);
        const wt::Error error = error_of([&] { profiler.start(); });
        CHECK(error.errno_value() == ESRCH);
        CHECK_FALSE(profiler.running());
    }
}
