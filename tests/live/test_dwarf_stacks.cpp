// SPDX-License-Identifier: LGPL-2.1-or-later
// --dwarf mode against programs the tests build: user stacks must cross
// libc's read() and name every caller up to main (a C program without frame
// pointers, also after it exited and its binary is gone), with inlined
// functions as frames of their own and mangled names readable.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include "chain_queries.hpp"
#include "format/format.hpp"
#include "profiler_engine.hpp"
#include "workloads.hpp"

namespace wt = waketrace;
namespace fs = std::filesystem;

namespace {

constexpr int kRounds = 5;

// A started fixture, held at its first read of stdin until go().
class HeldProgram {
public:
    HeldProgram(const std::string& path, std::vector<std::string> args) {
        int go_pipe[2];
        REQUIRE(pipe(go_pipe) == 0);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            dup2(go_pipe[0], 0);
            close(go_pipe[0]);
            close(go_pipe[1]);
            std::vector<char*> argv{const_cast<char*>(path.c_str())};
            for (std::string& arg : args)
                argv.push_back(arg.data());
            argv.push_back(nullptr);
            execv(path.c_str(), argv.data());
            _exit(127);
        }
        close(go_pipe[0]);
        go_fd_ = go_pipe[1];
    }
    ~HeldProgram() {
        if (go_fd_ >= 0)
            close(go_fd_);
        if (pid_ > 0)
            waitpid(pid_, nullptr, 0);
    }

    pid_t pid() const { return pid_; }
    void go() {
        REQUIRE(write(go_fd_, "g", 1) == 1);
        close(go_fd_);
        go_fd_ = -1;
    }
    int wait_exit_status() {
        int status = 0;
        REQUIRE(waitpid(pid_, &status, 0) == pid_);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    int go_fd_ = -1;
};

// The first frame of function `name`, or of a GCC clone of it ("name.isra.0"
// in C, "name [clone .isra.0]" demangled).
size_t index_of(const wt::Stack& stack, const std::string& name) {
    for (size_t i = 0; i < stack.frames.size(); ++i) {
        const std::string& symbol = stack.frames[i].symbol;
        if (symbol == name || symbol.rfind(name + ".", 0) == 0 || symbol.rfind(name + " [clone ", 0) == 0)
            return i;
    }
    return std::string::npos;
}

std::string frames_of(const wt::Stack& stack) {
    std::string names;
    for (const wt::Frame& frame : stack.frames)
        names += (names.empty() ? "" : ";") + wt::frame_name(frame) + " (" + frame.module + ")";
    return names;
}

// The workload's blocking reads: target in level_c's read, leaf first
// through libc up to main; the waker is the writer thread.
void check_deep_reads(const wt::Profile& profile, pid_t pid, std::string_view program_name) {
    INFO(wt::test::describe(profile.losses));
    INFO("profile:\n" << wt::format_folded(profile, wt::FormatOptions{}));
    CHECK(wt::test::losses_on_our_side(profile.losses) == 0);
    uint64_t reads = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(pid))) {
        // Blocking waits only: a busy machine may also preempt the reader
        // on its way into or out of read().
        if (!wt::test::has_frame(chain->user_stack, "level_c") ||
            chain->wakers[0].context == wt::WakerContext::preempted)
            continue;
        INFO("target user stack: " << frames_of(chain->user_stack));
        INFO("waker user stack: " << frames_of(chain->wakers[0].user_stack));
        reads += chain->count;
        CHECK(wt::test::has_frame(chain->kernel_stack, "pipe_read"));
        const wt::Stack& user = chain->user_stack;
        const size_t c = index_of(user, "level_c"), b = index_of(user, "deep_blocker::level_b"),
                     a = index_of(user, "level_a"), main = index_of(user, "main");
        CHECK(c < b);
        CHECK(b < a);
        CHECK(a < main);
        CHECK(main != std::string::npos);
        // Inlined into level_c, at level_c's address, with its own line.
        REQUIRE(c > 1);
        const wt::Frame& inlined = user.frames[c - 1];
        CHECK(inlined.symbol == "wait_for_token");
        CHECK(inlined.inlined);
        CHECK(inlined.address == user.frames[c].address);
        CHECK(inlined.line > 0);
        CHECK(inlined.file.find("deep_blocker.c") != std::string::npos);
        CHECK_FALSE(user.frames[c].inlined);
        // Frames below are libc's read wrapper: the frames a frame-pointer
        // walk cannot get past.
        CHECK(user.frames[0].module.find("libc") != std::string::npos);
        CHECK(user.frames[c].module.find(program_name) != std::string::npos);
        const wt::Waker& waker = chain->wakers[0];
        CHECK(waker.context == wt::WakerContext::task);
        CHECK(waker.task.tgid == uint32_t(pid));
        CHECK(waker.task.tid != uint32_t(pid));
        CHECK(wt::test::has_frame(waker.user_stack, "writer_loop"));
    }
    CHECK(wt::test::unaccounted_rounds(reads, kRounds, profile.losses) == "");
}

struct Run {
    pid_t pid;
    wt::Profile profile;
};

// Runs `path` to its end under a --dwarf profiler filtered to it; `after_exit`
// runs once the program is gone, before the results are read.
template <typename AfterExit>
Run run_under_dwarf_profiler(const std::string& path, AfterExit after_exit) {
    HeldProgram program(path, {std::to_string(kRounds), "20"});
    wt::Config config;
    config.pids = {uint32_t(program.pid())};
    config.dwarf_stack_bytes = 8192;
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    program.go();
    const pid_t pid = program.pid();
    CHECK(program.wait_exit_status() == 0);
    after_exit();
    profiler.stop();
    return {pid, profiler.results()};
}

Run run_under_dwarf_profiler(const std::string& path) {
    return run_under_dwarf_profiler(path, [] {});
}

// The pre-exec half of the exec test: blocks twice on `token_fd` (once
// before the profiler starts, once while it runs), then becomes the fixture.
__attribute__((noinline)) void wait_before_exec(int token_fd) {
    char byte;
    if (read(token_fd, &byte, 1) != 1)
        _exit(1);
}

[[noreturn]] void wait_twice_then_exec(int token_fd, const char* path) {
    wait_before_exec(token_fd);
    wait_before_exec(token_fd);
    const std::string rounds = std::to_string(kRounds);
    char* argv[] = {const_cast<char*>(path), const_cast<char*>(rounds.c_str()), const_cast<char*>("20"),
                    nullptr};
    execv(path, argv);
    _exit(127);
}

}  // namespace

TEST_CASE("--dwarf: a program without frame pointers is named through libc up to main") {
    const Run run = run_under_dwarf_profiler(DEEP_BLOCKER);
    check_deep_reads(run.profile, run.pid, "deep_blocker");
}

TEST_CASE("--dwarf: a process that exited and whose binary was deleted is still named") {
    const fs::path copy = fs::temp_directory_path() / ("deep_blocker_copy_" + std::to_string(getpid()));
    fs::copy_file(DEEP_BLOCKER, copy, fs::copy_options::overwrite_existing);
    // Exited and deleted, both before the results are read.
    const Run run = run_under_dwarf_profiler(copy.string(), [&] { fs::remove(copy); });
    check_deep_reads(run.profile, run.pid, copy.filename().string());
}

TEST_CASE("--dwarf: a C++ function inlined on the blocking path is a frame of its own, marked") {
    const Run run = run_under_dwarf_profiler(INLINE_BLOCKER);
    const wt::Profile& profile = run.profile;
    const pid_t pid = run.pid;
    INFO("profile:\n" << wt::format_folded(profile, wt::FormatOptions{}));

    uint64_t reads = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(pid))) {
        const wt::Stack& user = chain->user_stack;
        const size_t take = index_of(user, "app::Consumer::take()");
        if (take == std::string::npos || chain->wakers[0].context == wt::WakerContext::preempted)
            continue;
        INFO("target user stack: " << frames_of(user));
        reads += chain->count;
        REQUIRE(take > 0);
        const wt::Frame& inlined = user.frames[take - 1];
        CHECK(inlined.symbol == "char app::wait_for<char>(int)");
        CHECK(inlined.inlined);
        CHECK(inlined.address == user.frames[take].address);
        CHECK(inlined.file.find("inline_blocker.cpp") != std::string::npos);
        CHECK(inlined.line > 0);
        CHECK_FALSE(user.frames[take].inlined);
        CHECK(user.frames[take].line > 0);
        CHECK(index_of(user, "main") > take);
    }
    CHECK(wt::test::unaccounted_rounds(reads, kRounds, profile.losses) == "");
}

TEST_CASE("--dwarf: a process that execs is named with the right program before and after") {
    int token[2], go[2];
    REQUIRE(pipe(token) == 0);
    REQUIRE(pipe(go) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        dup2(go[0], 0);  // the fixture waits for its go byte on stdin
        close(go[1]);
        close(token[1]);
        wait_twice_then_exec(token[0], DEEP_BLOCKER);
    }
    close(go[0]);
    close(token[0]);
    wt::Config config;
    config.pids = {uint32_t(child)};
    config.dwarf_stack_bytes = 8192;
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    REQUIRE(write(token[1], "1", 1) == 1);  // ends the wait from before the start
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(write(token[1], "2", 1) == 1);  // ends the profiled wait: exec follows
    REQUIRE(write(go[1], "g", 1) == 1);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    close(token[1]);
    close(go[1]);
    profiler.stop();
    const wt::Profile profile = profiler.results();
    INFO("profile:\n" << wt::format_folded(profile, wt::FormatOptions{}));

    // Before the exec: this test program's function, woken by this thread.
    uint64_t waits_before_exec = 0;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(child))) {
        const size_t at = index_of(chain->user_stack, "(anonymous namespace)::wait_before_exec(int)");
        if (at == std::string::npos || chain->wakers[0].context == wt::WakerContext::preempted)
            continue;
        waits_before_exec += chain->count;
        CHECK(chain->user_stack.frames[at].module.find("test_live") != std::string::npos);
        CHECK(chain->wakers[0].task.tid == uint32_t(wt::test::current_tid()));
        CHECK(chain->blocked_ns >= 40'000'000);
    }
    CHECK(waits_before_exec == 1);
    // After it: the fixture's own frames, as in the tests above.
    check_deep_reads(profile, child, "deep_blocker");
}

TEST_CASE("--dwarf: a process truncating a library it is blocked in does not take the profiler down") {
    const fs::path copy =
        fs::temp_directory_path() / ("blocking_library_copy_" + std::to_string(getpid()) + ".so");
    fs::copy_file(BLOCKING_LIBRARY, copy, fs::copy_options::overwrite_existing);
    HeldProgram program(TRUNCATING_BLOCKER, {copy.string()});
    wt::Config config;
    config.pids = {uint32_t(program.pid())};
    config.dwarf_stack_bytes = 8192;
    wt::detail::ProfilerEngine profiler(config);
    profiler.start();
    program.go();
    const pid_t pid = program.pid();
    // It dies of SIGBUS on returning into the cut library (-1), or exits 0
    // should the kernel have kept the page; anything else is a broken fixture.
    const int status = program.wait_exit_status();
    CHECK((status == 0 || status == -1));
    CHECK(fs::file_size(copy) == 0);
    profiler.stop();

    // The report comes back, and names what can still be named.
    const wt::Profile profile = profiler.results();
    fs::remove(copy);
    INFO("profile:\n" << wt::format_folded(profile, wt::FormatOptions{}));
    uint64_t reads = 0;
    bool libc_named = false;
    for (const wt::WakeChain* chain : wt::test::chains_of_target(profile, uint32_t(pid))) {
        if (!wt::test::has_frame(chain->kernel_stack, "pipe_read"))
            continue;
        reads += chain->count;
        for (const wt::Frame& frame : chain->user_stack.frames)
            libc_named |= frame.module.find("libc") != std::string::npos && frame.resolved();
    }
    CHECK(reads >= 1);
    CHECK(libc_named);
}
