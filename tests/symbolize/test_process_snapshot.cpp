// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "fixtures.hpp"
#include "elf_symbols.hpp"
#include "process/mapped_file.hpp"
#include "process/pinned_files.hpp"
#include "process/process_snapshot.hpp"
#include "waketrace/error.hpp"

using waketrace::detail::Mapping;
using waketrace::detail::PinnedFiles;
using waketrace::detail::ProcessSnapshot;
using waketrace::detail::UniqueFd;
using waketrace::test::ElfSymbols;

namespace {

uint32_t self() { return static_cast<uint32_t>(getpid()); }

void write_file(const std::string& path, const std::string& contents, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    REQUIRE(fd);
    REQUIRE(::write(fd.get(), contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()));
}

// A private directory holding a copy of the fixture program, so the test may
// delete or replace the file a running process was started from.
class ProgramCopy {
public:
    ProgramCopy() {
        std::string pattern = "/tmp/snapshot-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()));
        directory_ = pattern;
        // Written and closed before any exec: a file open for writing
        // cannot be executed (ETXTBSY).
        write_file(path(), symfixture::read_file(SYMFIXTURE_PROGRAM), 0755);
    }
    ~ProgramCopy() {
        ::unlink(path().c_str());
        ::unlink(replacement().c_str());
        ::rmdir(directory_.c_str());
    }
    ProgramCopy(const ProgramCopy&) = delete;
    ProgramCopy& operator=(const ProgramCopy&) = delete;

    std::string path() const { return directory_ + "/program"; }
    void remove() { REQUIRE(::unlink(path().c_str()) == 0); }
    // Puts another file in its place under the same name, as an upgrade does.
    void replace() {
        write_file(replacement(), "an upgraded program, not ELF\n", 0755);
        REQUIRE(::rename(replacement().c_str(), path().c_str()) == 0);
    }

private:
    std::string replacement() const { return directory_ + "/replacement"; }
    std::string directory_;
};

// A program started from `path` that prints one address, as
// fixture_program.c does, and then waits to be killed.
class StartedProgram {
public:
    explicit StartedProgram(const std::string& path) {
        int pipe_fds[2];
        REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
        UniqueFd read_end(pipe_fds[0]);
        UniqueFd write_end(pipe_fds[1]);
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            dup2(write_end.get(), STDOUT_FILENO);
            execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        write_end.reset();
        char printed[64] = {};
        ssize_t got = ::read(read_end.get(), printed, sizeof printed - 1);
        REQUIRE(got > 0);
        worker_address_ = std::strtoull(printed, nullptr, 16);
        REQUIRE(worker_address_ != 0);
    }
    ~StartedProgram() { stop(); }
    StartedProgram(const StartedProgram&) = delete;
    StartedProgram& operator=(const StartedProgram&) = delete;

    uint32_t pid() const { return static_cast<uint32_t>(pid_); }
    uint64_t worker_address() const { return worker_address_; }

    // Killed but not reaped: a zombie.
    void kill_without_reaping() {
        ::kill(pid_, SIGKILL);
        siginfo_t info{};
        REQUIRE(waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0);
    }
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    uint64_t worker_address_ = 0;
};

bool process_exists(uint32_t pid) { return ::access(fmt::format("/proc/{}", pid).c_str(), F_OK) == 0; }

size_t open_fd_count() {
    DIR* directory = opendir("/proc/self/fd");
    REQUIRE(directory);
    size_t count = 0;
    while (readdir(directory))
        ++count;
    closedir(directory);
    return count;
}

// The fixture's worker function as named from the file behind `fd`.
std::string worker_name_in(UniqueFd fd, uint64_t worker_address) {
    ElfSymbols symbols = ElfSymbols::load(std::move(fd), "pinned program");
    auto symbol = symbols.lookup_address(worker_address);  // ET_EXEC: the run-time address
    return symbol && symbol->offset == 0 ? std::string(symbol->name) : std::string();
}

}  // namespace

TEST_CASE("a snapshot names the program of a process gone with its file", "[snapshot]") {
    ProgramCopy copy;
    std::string copy_path = symfixture::canonical_path(copy.path());
    StartedProgram program(copy.path());
    uint32_t pid = program.pid();
    uint64_t worker = program.worker_address();

    std::optional<ProcessSnapshot> snapshot = ProcessSnapshot::take(pid);
    REQUIRE(snapshot);
    CHECK(snapshot->tgid() == pid);
    const Mapping* mapping = snapshot->maps().find(worker);
    REQUIRE(mapping);
    CHECK(mapping->executable);
    CHECK(mapping->path == copy_path);
    CHECK(snapshot->pinned_count() >= 2);  // the program and at least libc

    copy.remove();
    program.stop();
    REQUIRE_FALSE(process_exists(pid));

    // Without the pin nothing reaches the file any more; with it the ELF is
    // all there.
    CHECK_FALSE(waketrace::detail::open_mapped_file(pid, *mapping));
    UniqueFd fd = snapshot->open_file(*mapping);
    REQUIRE(fd);
    CHECK(worker_name_in(std::move(fd), worker) == "symfixture_program_worker");
}

TEST_CASE("a snapshot keeps the program a later file replaced", "[snapshot]") {
    ProgramCopy copy;
    StartedProgram program(copy.path());
    uint32_t pid = program.pid();
    uint64_t worker = program.worker_address();

    std::optional<ProcessSnapshot> snapshot = ProcessSnapshot::take(pid);
    REQUIRE(snapshot);
    const Mapping* mapping = snapshot->maps().find(worker);
    REQUIRE(mapping);

    copy.replace();
    program.stop();

    // The path now opens the upgrade, which is not the program that ran...
    UniqueFd by_path = waketrace::detail::open_mapped_file(pid, *mapping);
    REQUIRE(by_path);
    CHECK_THROWS_AS(ElfSymbols::load(std::move(by_path), copy.path()), waketrace::Error);
    // ...while the pinned file still is. Opened twice: every call is a new fd.
    for (int round = 0; round < 2; ++round) {
        UniqueFd pinned = snapshot->open_file(*mapping);
        REQUIRE(pinned);
        CHECK(worker_name_in(std::move(pinned), worker) == "symfixture_program_worker");
    }
}

TEST_CASE("a process already gone has no snapshot", "[snapshot]") {
    CHECK_FALSE(ProcessSnapshot::take(static_cast<uint32_t>(symfixture::exited_pid())));
}

TEST_CASE("a zombie's snapshot is empty", "[snapshot]") {
    StartedProgram program(SYMFIXTURE_PROGRAM);
    program.kill_without_reaping();
    std::optional<ProcessSnapshot> snapshot = ProcessSnapshot::take(program.pid());
    REQUIRE(snapshot);  // /proc/PID exists until the parent reaps it
    CHECK(snapshot->maps().empty());
    CHECK(snapshot->pinned_count() == 0);
}

TEST_CASE("snapshots share one fd per file", "[snapshot]") {
    size_t fds_before = open_fd_count();
    PinnedFiles files;
    {
        std::optional<ProcessSnapshot> first = ProcessSnapshot::take(self(), files);
        REQUIRE(first);
        size_t pinned = first->pinned_count();
        CHECK(pinned >= 2);  // this test binary and libc, at least
        CHECK(files.open_count() == pinned);
        CHECK(open_fd_count() == fds_before + pinned);

        std::optional<ProcessSnapshot> second = ProcessSnapshot::take(self(), files);
        REQUIRE(second);
        CHECK(second->pinned_count() == pinned);
        CHECK(open_fd_count() == fds_before + pinned);

        // A copy outlives the original and shares its fds.
        ProcessSnapshot copy = *first;
        first.reset();
        second.reset();
        CHECK(files.open_count() == pinned);
        CHECK(open_fd_count() == fds_before + pinned);
        CHECK(copy.pinned_count() == pinned);
    }
    CHECK(files.open_count() == 0);
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("pinning stops at the cap and the rest opens on demand", "[snapshot]") {
    PinnedFiles files(1);
    std::optional<ProcessSnapshot> snapshot = ProcessSnapshot::take(self(), files);
    REQUIRE(snapshot);
    CHECK(snapshot->pinned_count() == 1);
    CHECK(files.open_count() == 1);

    size_t executable_files = 0;
    for (const Mapping& mapping : snapshot->maps().mappings()) {
        if (!mapping.executable || !mapping.is_file())
            continue;
        ++executable_files;
        CHECK(snapshot->open_file(mapping));  // pinned or not, this process runs
    }
    CHECK(executable_files >= 2);
}
