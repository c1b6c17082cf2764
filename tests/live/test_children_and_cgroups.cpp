// SPDX-License-Identifier: LGPL-2.1-or-later
// Which processes a profile follows: children forked after the start
// (Config::follow_children) and threads by cgroup (Config::cgroups), each
// against processes whose pids the test knows; and how a waker outside the
// filters shows.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "profile_while.hpp"

namespace wt = waketrace;

namespace {

// Sleeps three times 20 ms: three nanosleep periods woken by the timer.
[[noreturn]] void sleep_and_exit() {
    for (int i = 0; i < 3; ++i)
        usleep(20'000);
    _exit(0);
}

std::set<uint32_t> target_processes(const wt::Profile& profile) {
    std::set<uint32_t> tgids;
    for (const wt::WakeChain& chain : profile.chains)
        tgids.insert(chain.target.tgid);
    return tgids;
}

// A process that, once run() releases it, forks a child that sleeps, and
// waits for it. The child's pid comes back through a pipe.
class ForkingParent {
public:
    ForkingParent() {
        REQUIRE(pipe(release_) == 0);
        REQUIRE(pipe(report_) == 0);
        parent_ = fork();
        REQUIRE(parent_ >= 0);
        if (parent_ == 0) {
            close(release_[1]);
            close(report_[0]);
            char byte;
            if (read(release_[0], &byte, 1) != 1)
                _exit(1);
            const pid_t child = fork();
            if (child == 0)
                sleep_and_exit();
            const int32_t reported = child;
            if (write(report_[1], &reported, sizeof(reported)) != sizeof(reported))
                _exit(1);
            waitpid(child, nullptr, 0);
            _exit(0);
        }
        close(release_[0]);
        close(report_[1]);
    }
    ForkingParent(const ForkingParent&) = delete;
    ForkingParent& operator=(const ForkingParent&) = delete;
    ~ForkingParent() {
        close(release_[1]);
        close(report_[0]);
        if (parent_ > 0)
            waitpid(parent_, nullptr, 0);
    }
    void run() {
        REQUIRE(write(release_[1], "x", 1) == 1);
        int32_t reported = 0;
        REQUIRE(read(report_[0], &reported, sizeof(reported)) == sizeof(reported));
        child_ = uint32_t(reported);
        int status = 0;
        REQUIRE(waitpid(parent_, &status, 0) == parent_);
        parent_ = -1;
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    uint32_t parent() const { return uint32_t(parent_); }
    uint32_t child() const { return child_; }

private:
    int release_[2] = {-1, -1};
    int report_[2] = {-1, -1};
    pid_t parent_ = -1;
    uint32_t child_ = 0;
};

// The cgroup2 mount point from /proc/mounts (hybrid hosts mount it at
// /sys/fs/cgroup/unified, pure v2 ones at /sys/fs/cgroup).
std::string cgroup2_mount() {
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string source, mount_point, type;
        fields >> source >> mount_point >> type;
        if (type == "cgroup2")
            return mount_point;
    }
    return {};
}

// A cgroup made for the test, removed (once empty) at the end.
class TestCgroup {
public:
    explicit TestCgroup(std::string path) : path_(std::move(path)) {
        REQUIRE((mkdir(path_.c_str(), 0755) == 0 || errno == EEXIST));
    }
    ~TestCgroup() {
        for (int attempt = 0; attempt < 100 && rmdir(path_.c_str()) != 0 && errno == EBUSY; ++attempt)
            usleep(10'000);  // its last process is still being reaped
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A process that moves itself into `cgroup`, waits for run(), then sleeps.
class SleeperIn {
public:
    explicit SleeperIn(const std::string& cgroup) {
        REQUIRE(pipe(release_) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            close(release_[1]);
            std::ofstream(cgroup + "/cgroup.procs") << getpid() << std::flush;
            char byte;
            if (read(release_[0], &byte, 1) != 1)
                _exit(1);
            sleep_and_exit();
        }
        close(release_[0]);
    }
    SleeperIn(const SleeperIn&) = delete;
    SleeperIn& operator=(const SleeperIn&) = delete;
    ~SleeperIn() {
        if (release_[1] >= 0)
            close(release_[1]);
        if (pid_ > 0)
            waitpid(pid_, nullptr, 0);
    }
    void release() {
        REQUIRE(write(release_[1], "x", 1) == 1);
        close(release_[1]);
        release_[1] = -1;
    }
    void wait() {
        REQUIRE(waitpid(pid_, nullptr, 0) == pid_);
        pid_ = -1;
    }
    uint32_t pid() const { return uint32_t(pid_); }

private:
    int release_[2] = {-1, -1};
    pid_t pid_ = -1;
};

// A child that reads a pipe kRounds times; run() writes to it from this
// process, a little apart, so each read blocks.
class PipeReaderChild {
public:
    static constexpr int kRounds = 5;
    PipeReaderChild() {
        REQUIRE(pipe(pipe_) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            close(pipe_[1]);
            char byte;
            for (int i = 0; i < kRounds; ++i)
                if (read(pipe_[0], &byte, 1) != 1)
                    _exit(1);
            _exit(0);
        }
        close(pipe_[0]);
    }
    PipeReaderChild(const PipeReaderChild&) = delete;
    PipeReaderChild& operator=(const PipeReaderChild&) = delete;
    ~PipeReaderChild() {
        close(pipe_[1]);
        waitpid(pid_, nullptr, 0);
    }
    void run() {
        for (int i = 0; i < kRounds; ++i) {
            usleep(10'000);
            REQUIRE(write(pipe_[1], "x", 1) == 1);
        }
        REQUIRE(waitpid(pid_, nullptr, 0) == pid_);
    }
    uint32_t pid() const { return uint32_t(pid_); }

private:
    int pipe_[2] = {-1, -1};
    pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("a waker outside the filters is kept as the waker, and marked") {
    for (const bool writer_traced : {false, true}) {
        PipeReaderChild reader;
        wt::Config config;
        config.pids = {reader.pid()};
        if (writer_traced)
            config.pids.push_back(uint32_t(getpid()));
        const uint32_t reader_pid = reader.pid();
        const wt::Profile profile = wt::test::profile_while(config, reader);
        uint64_t woken_by_writer = 0;
        for (const wt::WakeChain& chain : profile.chains) {
            if (chain.target.tgid != reader_pid || chain.wakers.empty())
                continue;
            const wt::Waker& waker = chain.wakers[0];
            INFO("writer traced " << writer_traced << ", waker " << waker.task.comm << " " << waker.task.tid);
            if (waker.context == wt::WakerContext::task && waker.task.tgid == uint32_t(getpid())) {
                CHECK(waker.outside_filters == !writer_traced);
                woken_by_writer += chain.count;
            } else if (waker.context != wt::WakerContext::task) {
                CHECK_FALSE(waker.outside_filters);  // interrupts are not tasks
            }
        }
        CHECK(woken_by_writer >= PipeReaderChild::kRounds - 1);  // the first read may start before
    }
}

TEST_CASE("follow_children: a process forked by a traced one is traced from its fork") {
    for (const bool follow : {true, false}) {
        ForkingParent parent;
        wt::Config config;
        config.pids = {parent.parent()};
        config.follow_children = follow;
        const uint32_t parent_pid = parent.parent();
        const wt::Profile profile = wt::test::profile_while(config, parent);
        const std::set<uint32_t> traced = target_processes(profile);
        INFO("follow_children " << follow << ", parent " << parent_pid << ", child " << parent.child());
        CHECK(traced.count(parent_pid) == 1);  // it waited for the child
        CHECK(traced.count(parent.child()) == (follow ? 1 : 0));
        CHECK(traced.size() == (follow ? 2 : 1));
        if (follow) {
            // All three of its sleeps, woken by the timer.
            uint64_t sleeps = 0;
            for (const wt::WakeChain& chain : profile.chains)
                if (chain.target.tgid == parent.child() && !chain.wakers.empty() &&
                    chain.wakers[0].context == wt::WakerContext::hardirq)
                    sleeps += chain.count;
            CHECK(sleeps >= 3);
        }
        CHECK(profile.losses.untraced_children == 0);
    }
}

TEST_CASE("cgroups: only threads in the listed cgroups or below them") {
    const std::string mount = cgroup2_mount();
    if (mount.empty())
        FAIL("no cgroup2 mount in /proc/mounts");
    const std::string base = mount + "/waketrace-test-" + std::to_string(getpid());
    TestCgroup traced(base + "-in");
    TestCgroup below(traced.path() + "/below");
    TestCgroup other(base + "-out");
    struct Workload {
        SleeperIn in, nested, out;
        void run() {
            for (SleeperIn* sleeper : {&in, &nested, &out})
                sleeper->release();
            for (SleeperIn* sleeper : {&in, &nested, &out})
                sleeper->wait();
        }
    } workload{SleeperIn(traced.path()), SleeperIn(below.path()), SleeperIn(other.path())};
    const uint32_t in = workload.in.pid(), nested = workload.nested.pid(), out = workload.out.pid();

    wt::Config config;
    config.cgroups = {traced.path()};
    const std::set<uint32_t> seen = target_processes(wt::test::profile_while(config, workload));
    INFO("in " << in << ", below " << nested << ", out " << out);
    CHECK(seen.count(in) == 1);
    CHECK(seen.count(nested) == 1);
    CHECK(seen.count(out) == 0);
    // Nothing outside the cgroup: every target is one of the two.
    CHECK(seen == std::set<uint32_t>{in, nested});
}

TEST_CASE("cgroups: a path that is not a cgroup v2 directory is refused at start") {
    wt::Config config;
    config.cgroups = {"/tmp"};
    wt::detail::ProfilerEngine engine(config);
    CHECK_THROWS_WITH(engine.start(), Catch::Contains("is not a cgroup v2 directory"));
    config.cgroups = {"/nonexistent/cgroup"};
    wt::detail::ProfilerEngine missing(config);
    try {
        missing.start();
        FAIL("started with a missing cgroup");
    } catch (const wt::Error& error) {
        CHECK(error.code().value() == ENOENT);
    }
}
