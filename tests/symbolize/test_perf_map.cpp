// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "symbolize/perf_map.hpp"
#include "support/read_file.hpp"
#include "support/unique_fd.hpp"

using waketrace::detail::PerfMap;
using waketrace::detail::PerfMapOwner;
using waketrace::detail::PerfMapSymbol;
using waketrace::detail::UniqueFd;

namespace {

uint32_t self() { return static_cast<uint32_t>(getpid()); }

// The name and offset find() gives, or "-" for nothing, to compare in one CHECK.
std::string found(const PerfMap& map, uint64_t address) {
    std::optional<PerfMapSymbol> symbol = map.find(address);
    return symbol ? fmt::format("{}+{:#x}", symbol->name, symbol->offset) : std::string("-");
}

// /tmp/perf-PID.map of this test process, removed on destruction (and
// before creation, should an earlier run have died with it in place).
class OwnPerfMapFile {
public:
    OwnPerfMapFile() : path_(fmt::format("/tmp/perf-{}.map", getpid())) { ::unlink(path_.c_str()); }
    ~OwnPerfMapFile() {
        ::unlink(path_.c_str());
        if (!link_.empty())
            ::unlink(link_.c_str());
    }
    OwnPerfMapFile(const OwnPerfMapFile&) = delete;
    OwnPerfMapFile& operator=(const OwnPerfMapFile&) = delete;

    const std::string& path() const { return path_; }

    void append(std::string_view text) {
        UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
        REQUIRE(fd);
        REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    void rewrite(std::string_view text) {
        REQUIRE(::truncate(path_.c_str(), 0) == 0);
        append(text);
    }
    const std::string& link_path() const { return link_; }
    // A second name for the file, removed on destruction.
    void hard_link() {
        link_ = path_ + ".link";
        REQUIRE(::link(path_.c_str(), link_.c_str()) == 0);
    }

private:
    std::string path_;
    std::string link_;
};

}  // namespace

TEST_CASE("perf map lines parse", "[perf-map]") {
    PerfMap map = PerfMap::parse(
        "7f0000001000 40 LazyCompile:*hot /app/server.js:12\n"
        "7f0000002000 0x10 Builtin: with 0x prefix\n"
        "7F0000003000 8 upper case hex\r\n"
        "7f0000004000\t20\ttab separated  \n"
        "\n"
        "not a line at all\n"
        "7f0000005000 zz bad size\n"
        "7f0000006000 20\n"  // no name
        "7f0000007000 0 empty range\n"
        "ffffffffffffff00 200 wraps around\n"
        "7f0000008000 10 last line, no newline");

    CHECK(map.size() == 5);
    CHECK(found(map, 0x7f0000001000) == "LazyCompile:*hot /app/server.js:12+0x0");
    CHECK(found(map, 0x7f0000001013) == "LazyCompile:*hot /app/server.js:12+0x13");
    CHECK(found(map, 0x7f000000200f) == "Builtin: with 0x prefix+0xf");
    CHECK(found(map, 0x7f0000003004) == "upper case hex+0x4");
    CHECK(found(map, 0x7f0000004000) == "tab separated+0x0");
    CHECK(found(map, 0x7f0000005000) == "-");
    CHECK(found(map, 0x7f0000006000) == "-");
    CHECK(found(map, 0x7f0000007000) == "-");
    CHECK(found(map, 0xffffffffffffff10) == "-");
    CHECK(found(map, 0x7f0000008001) == "last line, no newline+0x1");
}

TEST_CASE("perf map lookup bounds", "[perf-map]") {
    PerfMap map = PerfMap::parse("1000 100 first\n1100 80 adjacent\n2000 10 apart\n");
    CHECK(found(map, 0xfff) == "-");
    CHECK(found(map, 0x1000) == "first+0x0");  // START is inside
    CHECK(found(map, 0x10ff) == "first+0xff");
    CHECK(found(map, 0x1100) == "adjacent+0x0");  // START + SIZE is the next one's
    CHECK(found(map, 0x1180) == "-");             // and outside when nothing follows
    CHECK(found(map, 0x200f) == "apart+0xf");
    CHECK(found(map, 0x2010) == "-");
    CHECK(found(PerfMap::parse(""), 0x1000) == "-");
}

TEST_CASE("later perf map lines override earlier ones", "[perf-map]") {
    SECTION("the same range re-emitted") {
        PerfMap map = PerfMap::parse("1000 100 old\n1000 100 new\n");
        CHECK(map.size() == 1);
        CHECK(found(map, 0x1050) == "new+0x50");
    }
    SECTION("a new function inside an old one splits it") {
        PerfMap map = PerfMap::parse("1000 100 old\n1040 20 new\n");
        CHECK(map.size() == 3);
        CHECK(found(map, 0x103f) == "old+0x3f");
        CHECK(found(map, 0x1040) == "new+0x0");
        CHECK(found(map, 0x105f) == "new+0x1f");
        CHECK(found(map, 0x1060) == "old+0x60");  // offsets still from old's START
    }
    SECTION("a new function across old ones trims and removes them") {
        PerfMap map = PerfMap::parse("1000 100 a\n1100 100 b\n1200 100 c\n1080 200 new\n");
        CHECK(map.size() == 3);
        CHECK(found(map, 0x107f) == "a+0x7f");
        CHECK(found(map, 0x1080) == "new+0x0");
        CHECK(found(map, 0x1150) == "new+0xd0");  // b is gone
        CHECK(found(map, 0x127f) == "new+0x1ff");
        CHECK(found(map, 0x1280) == "c+0x80");
    }
    SECTION("an old function inside a new one disappears") {
        PerfMap map = PerfMap::parse("1040 20 old\n1000 100 new\n");
        CHECK(map.size() == 1);
        CHECK(found(map, 0x1050) == "new+0x50");
    }
}

TEST_CASE("the perf map of this process is read and followed", "[perf-map]") {
    OwnPerfMapFile file;
    CHECK_FALSE(PerfMap::read(self()));  // no file, no map

    file.append("7f0000001000 100 first\n7f0000002000 100 sec");  // a JIT mid-line
    std::optional<PerfMap> map = PerfMap::read(self());
    REQUIRE(map);
    // Our mount namespace is our own root, so the first candidate answers.
    CHECK(map->path() == fmt::format("/proc/{}/root/tmp/perf-{}.map", self(), self()));
    CHECK(found(*map, 0x7f0000001001) == "first+0x1");
    CHECK(found(*map, 0x7f0000002001) == "-");  // not complete yet

    file.append("ond\n7f0000001000 100 first, recompiled\n");
    map->update();
    CHECK(found(*map, 0x7f0000002001) == "second+0x1");
    CHECK(found(*map, 0x7f0000001001) == "first, recompiled+0x1");

    map->update();  // nothing new: nothing changes
    CHECK(map->size() == 2);

    file.rewrite("7f0000003000 10 after restart\n");  // shorter: read from the start
    map->update();
    CHECK(map->size() == 1);
    CHECK(found(*map, 0x7f0000001001) == "-");
    CHECK(found(*map, 0x7f0000003001) == "after restart+0x1");
}

TEST_CASE("perf map files nobody's JIT wrote are refused", "[perf-map]") {
    OwnPerfMapFile file;

    SECTION("a symlink") {
        // To a well-formed map: the link alone is the reason to refuse.
        file.append("1000 10 x\n");
        file.hard_link();
        REQUIRE(::unlink(file.path().c_str()) == 0);
        REQUIRE(::symlink(file.link_path().c_str(), file.path().c_str()) == 0);
        CHECK_FALSE(PerfMap::read(self()));
    }
    SECTION("a file with a second link") {
        file.append("1000 10 x\n");
        REQUIRE(PerfMap::read(self()));
        file.hard_link();
        CHECK_FALSE(PerfMap::read(self()));
    }
    SECTION("a FIFO, without blocking") {
        REQUIRE(::mkfifo(file.path().c_str(), 0600) == 0);
        CHECK_FALSE(PerfMap::read(self()));
    }
    SECTION("a file of another user") {
        file.append("1000 10 x\n");
        if (geteuid() != 0) {
            WARN("changing a file's owner needs root: only the own user's file is checked");
            CHECK(PerfMap::read(self()));
            return;
        }
        REQUIRE(::chown(file.path().c_str(), 12345, 12345) == 0);
        CHECK_FALSE(PerfMap::read(self()));
    }
}

namespace {

// A JIT running as pid 1 of a new PID namespace with its own /tmp (a tmpfs
// in a new mount namespace): its perf map is /tmp/perf-1.map over there,
// invisible in our /tmp. Needs CAP_SYS_ADMIN; pid() is 0 without it.
class NamespacedJit {
public:
    explicit NamespacedJit(std::string_view perf_map_text) {
        int pipe_fds[2];
        REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
        UniqueFd read_end(pipe_fds[0]);
        UniqueFd write_end(pipe_fds[1]);
        helper_ = fork();
        REQUIRE(helper_ >= 0);
        if (helper_ == 0)
            run_helper(write_end.get(), perf_map_text);
        write_end.reset();
        pid_t jit = 0;
        REQUIRE(::read(read_end.get(), &jit, sizeof jit) == sizeof jit);
        jit_ = jit;
    }
    ~NamespacedJit() { stop(); }
    NamespacedJit(const NamespacedJit&) = delete;
    NamespacedJit& operator=(const NamespacedJit&) = delete;

    uint32_t pid() const { return static_cast<uint32_t>(jit_); }  // as we see it
    // Kills the JIT and waits for the helper: then no process is left in
    // the namespaces, and the tmpfs is unmounted.
    void stop() {
        if (jit_ > 0)
            ::kill(jit_, SIGKILL);
        jit_ = 0;
        if (helper_ > 0)
            waitpid(helper_, nullptr, 0);
        helper_ = -1;
    }

private:
    // In the forked child: only system calls from here on.
    [[noreturn]] static void run_helper(int report_fd, std::string_view perf_map_text) {
        pid_t jit = 0;
        // The mount namespace applies to this process at once, the PID
        // namespace to its next child, which will be pid 1 there.
        if (unshare(CLONE_NEWPID | CLONE_NEWNS) == 0 &&
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
            mount("waketrace-test", "/tmp", "tmpfs", 0, nullptr) == 0) {
            int map = ::open("/tmp/perf-1.map", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (map >= 0 && ::write(map, perf_map_text.data(), perf_map_text.size()) ==
                                static_cast<ssize_t>(perf_map_text.size()))
                jit = fork();
            if (jit == 0) {  // the JIT, when the fork above ran
                for (;;)
                    pause();
            }
        }
        if (jit < 0)
            jit = 0;
        (void)!::write(report_fd, &jit, sizeof jit);
        if (jit > 0)
            waitpid(jit, nullptr, 0);
        _exit(0);
    }

    pid_t helper_ = -1;
    pid_t jit_ = 0;
};

}  // namespace

TEST_CASE("the perf map of a process in other namespaces", "[perf-map]") {
    NamespacedJit jit("7f0000001000 100 namespaced function\n");
    if (jit.pid() == 0) {
        WARN("new PID and mount namespaces need CAP_SYS_ADMIN: cannot test");
        return;
    }
    PerfMapOwner owner = PerfMapOwner::parse_status(
        waketrace::detail::read_whole_file(fmt::format("/proc/{}/status", jit.pid())));
    CHECK(owner.namespace_pid == 1u);
    CHECK(::access(fmt::format("/tmp/perf-{}.map", jit.pid()).c_str(), F_OK) != 0);
    CHECK(::access("/tmp/perf-1.map", F_OK) != 0);

    std::optional<PerfMap> map = PerfMap::read(jit.pid());
    REQUIRE(map);
    CHECK(map->path() == fmt::format("/proc/{}/root/tmp/perf-1.map", jit.pid()));
    CHECK(found(*map, 0x7f0000001010) == "namespaced function+0x10");

    // The file stays open: after the JIT and its /tmp are gone, it still reads.
    jit.stop();
    map->update();
    CHECK(found(*map, 0x7f0000001010) == "namespaced function+0x10");
}

TEST_CASE("process status gives the namespace pid and the users", "[perf-map]") {
    PerfMapOwner nested = PerfMapOwner::parse_status(
        "Name:\tnode\nNStgid:\t4242\t17\nNSpid:\t4242\t17\nUid:\t1000\t1001\t1002\t1003\n"
        "Gid:\t100\t100\t100\t100\n");
    CHECK(nested.namespace_pid == 17u);
    CHECK(nested.uids == std::vector<uint32_t>{1000, 1001, 1002, 1003});

    PerfMapOwner old_kernel = PerfMapOwner::parse_status("Name:\tnode\nUid:\t0\t0\t0\t0\n");
    CHECK_FALSE(old_kernel.namespace_pid);
    CHECK(old_kernel.uids == std::vector<uint32_t>{0, 0, 0, 0});

    PerfMapOwner live = PerfMapOwner::parse_status(
        waketrace::detail::read_whole_file(fmt::format("/proc/{}/status", self())));
    CHECK(live.namespace_pid == self());  // as we see ourselves
    CHECK(live.uids.at(0) == getuid());
    CHECK(live.uids.at(1) == geteuid());

    CHECK(waketrace::detail::perf_map_paths(4242, 17) ==
          std::vector<std::string>{"/proc/4242/root/tmp/perf-17.map", "/tmp/perf-4242.map"});
}

TEST_CASE("a sparse perf map of gigabytes is read to its cap in bounded time and memory",
          "[perf-map][hostile]") {
    OwnPerfMapFile file;
    file.append("7f0000001000 100 before_the_cap\n");
    // 3 GiB of holes on a few KiB of disk, then a line no reader should reach.
    const off_t apparent = off_t(3) << 30;
    REQUIRE(::truncate(file.path().c_str(), apparent) == 0);
    file.append("7f0000002000 100 past_the_cap\n");

    struct rusage before {};
    REQUIRE(::getrusage(RUSAGE_SELF, &before) == 0);
    auto started = std::chrono::steady_clock::now();
    std::optional<PerfMap> map = PerfMap::read(self());
    auto elapsed = std::chrono::steady_clock::now() - started;
    struct rusage after {};
    REQUIRE(::getrusage(RUSAGE_SELF, &after) == 0);

    REQUIRE(map);
    CHECK(found(*map, 0x7f0000001010) == "before_the_cap+0x10");
    CHECK(found(*map, 0x7f0000002010) == "-");
    CHECK(map->cut_reason().find("bytes") != std::string::npos);
    CHECK(elapsed < std::chrono::seconds(5));
    // ru_maxrss is in KiB: the peak grew by less than the buffers, not by GiB.
    CHECK(after.ru_maxrss - before.ru_maxrss < 16 * 1024);

    // A cut map is never read again, however often lookups miss.
    started = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i)
        map->update();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(100));
    CHECK(map->size() == 1);
}

TEST_CASE("perf map caps on lines and line length", "[perf-map][hostile]") {
    waketrace::detail::PerfMapLimits limits;
    limits.max_lines = 2;
    limits.max_line_bytes = 64;

    SECTION("lines past the line cap are left out, and the map says it was cut") {
        PerfMap map = PerfMap::parse("1000 10 one\n2000 10 two\n3000 10 three\n", limits);
        CHECK(found(map, 0x1001) == "one+0x1");
        CHECK(found(map, 0x2001) == "two+0x1");
        CHECK(found(map, 0x3001) == "-");
        CHECK(map.cut_reason().find("2 lines") != std::string::npos);
    }
    SECTION("a line above the length cap is skipped, the next one read") {
        std::string text = "1000 10 " + std::string(100, 'x') + "\n2000 10 short\n";
        PerfMap map = PerfMap::parse(text, limits);
        CHECK(found(map, 0x1001) == "-");
        CHECK(found(map, 0x2001) == "short+0x1");
        CHECK(map.cut_reason().empty());
    }
    SECTION("an endless line in a file is skipped once, not read again at every update") {
        OwnPerfMapFile file;
        file.append(std::string(300 * 1024, 'z'));  // no newline yet
        std::optional<PerfMap> map = PerfMap::read(self());
        REQUIRE(map);
        CHECK(map->size() == 0);
        file.append(std::string(10, 'z') + "\n7f0000001000 100 after_the_junk\n");
        map->update();
        CHECK(found(*map, 0x7f0000001001) == "after_the_junk+0x1");
        CHECK(map->cut_reason().empty());
    }
}
