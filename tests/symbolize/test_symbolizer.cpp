// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "fixtures.hpp"
#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"
#include "symbolize/build_id.hpp"
#include "symbolize/symbolizer.hpp"

using waketrace::Frame;
using waketrace::detail::Symbolizer;

namespace {

uint32_t self() { return static_cast<uint32_t>(getpid()); }

// An anonymous page, unmapped on destruction.
class AnonymousPage {
public:
    explicit AnonymousPage(int protection = PROT_READ | PROT_WRITE)
        : address_(mmap(nullptr, size_, protection, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
        REQUIRE(address_ != MAP_FAILED);
    }
    ~AnonymousPage() { munmap(address_, size_); }
    AnonymousPage(const AnonymousPage&) = delete;
    AnonymousPage& operator=(const AnonymousPage&) = delete;
    uint64_t address() const { return reinterpret_cast<uint64_t>(address_); }

private:
    static constexpr size_t size_ = 4096;
    void* address_;
};

// A perf map file for this process, as a JIT writes it; removed at the end.
class PerfMapFile {
public:
    PerfMapFile() : path_("/tmp/perf-" + std::to_string(getpid()) + ".map") { append(""); }
    ~PerfMapFile() { std::remove(path_.c_str()); }
    PerfMapFile(const PerfMapFile&) = delete;
    PerfMapFile& operator=(const PerfMapFile&) = delete;

    void append(const std::string& lines) {
        std::FILE* file = std::fopen(path_.c_str(), "a");
        REQUIRE(file);
        std::fputs(lines.c_str(), file);
        std::fclose(file);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace

TEST_CASE("user frames of a loaded library", "[symbolizer]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    std::string library_path = symfixture::canonical_path(SYMFIXTURE_LIBRARY);
    Symbolizer symbolizer;

    std::vector<Frame> frames =
        symbolizer.user_frames(self(), {library.leaf(), library.caller() + 3, library.twice()});
    REQUIRE(frames.size() == 3);

    CHECK(frames[0].symbol == "symfixture_leaf");
    CHECK(frames[0].offset == 0);
    CHECK(frames[0].module == library_path);
    CHECK(frames[0].address == library.leaf());

    CHECK(frames[1].symbol == "symfixture_caller");
    CHECK(frames[1].offset == 3);

    CHECK(frames[2].symbol == "symfixture::inner::twice(int)");
    CHECK(frames[2].module == library_path);

    SECTION("asking again gives the same frames") {
        std::vector<Frame> again = symbolizer.user_frames(self(), {library.caller() + 3});
        CHECK(again[0].symbol == "symfixture_caller");
        CHECK(again[0].offset == 3);
    }
}

TEST_CASE("user frames know where they are in their file, and the file's build-id", "[symbolizer]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    const std::string library_path = symfixture::canonical_path(SYMFIXTURE_LIBRARY);
    waketrace::detail::UniqueFd fd(open(library_path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    const std::string build_id = waketrace::detail::read_build_id(fd.get());
    REQUIRE(build_id.size() == 40);  // the linker's sha1
    const std::optional<waketrace::detail::ProcessMaps> maps = waketrace::detail::ProcessMaps::read(self());
    REQUIRE(maps);

    Symbolizer symbolizer;
    AnonymousPage page;
    const std::vector<uint64_t> addresses = {library.leaf(), library.caller() + 3};
    std::vector<Frame> frames = symbolizer.user_frames(self(), addresses);
    REQUIRE(frames.size() == 2);
    for (size_t i = 0; i < frames.size(); ++i) {
        const waketrace::detail::Mapping* mapping = maps->find(addresses[i]);
        REQUIRE(mapping);
        REQUIRE(frames[i].file_offset);
        CHECK(*frames[i].file_offset == addresses[i] - mapping->start + mapping->file_offset);
        CHECK(frames[i].build_id == build_id);
    }
    // Not in a file: nothing to find again.
    frames = symbolizer.user_frames(self(), {page.address() + 8});
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].file_offset);
    CHECK(frames[0].build_id.empty());
}

TEST_CASE("user frames that cannot be resolved keep what is known", "[symbolizer]") {
    AnonymousPage page;
    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.user_frames(self(), {0x10, page.address() + 8});
    REQUIRE(frames.size() == 2);
    for (const Frame& frame : frames) {
        CHECK_FALSE(frame.resolved());
        CHECK(frame.module.empty());
    }
    CHECK(frames[0].address == 0x10);
    CHECK(frames[1].address == page.address() + 8);
}

TEST_CASE("a remembered process is named after it exits", "[symbolizer]") {
    symfixture::RunningProgram program;
    uint32_t pid = static_cast<uint32_t>(program.pid());
    uint64_t worker = program.worker_address();
    Symbolizer symbolizer;
    symbolizer.processes().remember(pid);
    program.stop();

    std::vector<Frame> frames = symbolizer.user_frames(pid, {worker + 1});
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].symbol == "symfixture_program_worker");
    CHECK(frames[0].offset == 1);
    CHECK(frames[0].module == symfixture::canonical_path(SYMFIXTURE_PROGRAM));
}

TEST_CASE("a new run forgets the processes only earlier runs remembered", "[symbolizer]") {
    symfixture::RunningProgram met_once;
    symfixture::RunningProgram met_again;
    const auto once_pid = static_cast<uint32_t>(met_once.pid());
    const auto again_pid = static_cast<uint32_t>(met_again.pid());
    Symbolizer symbolizer;
    const uint64_t first_run = symbolizer.begin_run();
    symbolizer.processes().remember(once_pid);
    symbolizer.processes().remember(again_pid);
    symbolizer.forget_runs_before(first_run);  // both stored in this run: kept
    CHECK(symbolizer.processes().size() == 2);

    const uint64_t second_run = symbolizer.begin_run();
    symbolizer.processes().remember(again_pid);
    symbolizer.forget_runs_before(second_run);
    CHECK(symbolizer.processes().size() == 1);
    // The forgotten one is read again when asked about, while it runs.
    CHECK(symbolizer.user_frames(once_pid, {met_once.worker_address()}).at(0).symbol ==
          "symfixture_program_worker");
    CHECK(symbolizer.processes().size() == 2);
}

TEST_CASE("a process never remembered is read when first asked about", "[symbolizer]") {
    symfixture::RunningProgram program;
    Symbolizer symbolizer;
    std::vector<Frame> frames =
        symbolizer.user_frames(static_cast<uint32_t>(program.pid()), {program.worker_address()});
    CHECK(frames.at(0).symbol == "symfixture_program_worker");
    CHECK(frames.at(0).offset == 0);
}

TEST_CASE("a process gone before it was remembered gives unresolved frames", "[symbolizer]") {
    uint32_t pid = static_cast<uint32_t>(symfixture::exited_pid());
    Symbolizer symbolizer;
    symbolizer.processes().remember(pid);  // silently nothing to remember
    std::vector<Frame> frames = symbolizer.user_frames(pid, {0x401000, 0x7f0000001000});
    REQUIRE(frames.size() == 2);
    CHECK_FALSE(frames[0].resolved());
    CHECK(frames[1].address == 0x7f0000001000);
}

TEST_CASE("a library deleted after loading", "[symbolizer]") {
    symfixture::TempFile copy(symfixture::read_file(SYMFIXTURE_LIBRARY));
    symfixture::LoadedLibrary library(copy.path());
    std::string copy_path = symfixture::canonical_path(copy.path());
    copy.remove();

    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.user_frames(self(), {library.leaf() + 2});
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].module == copy_path);
    if (symfixture::map_files_readable(library.leaf())) {
        // /proc/PID/map_files still reaches the unlinked inode.
        CHECK(frames[0].symbol == "symfixture_leaf");
        CHECK(frames[0].offset == 2);
    } else {
        WARN("/proc/self/map_files needs CAP_SYS_ADMIN: a deleted file cannot be read");
        CHECK_FALSE(frames[0].resolved());
    }
}

TEST_CASE("remembering a process may run while frames are resolved", "[symbolizer]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    Symbolizer symbolizer;
    std::atomic<bool> done{false};
    std::thread rememberer([&] {
        while (!done)
            symbolizer.processes().remember(self());
    });
    bool all_resolved = true;
    for (int round = 0; round < 200; ++round) {
        std::vector<Frame> frames = symbolizer.user_frames(self(), {library.leaf() + 1});
        all_resolved = all_resolved && frames.at(0).symbol == "symfixture_leaf";
    }
    done = true;
    rememberer.join();
    CHECK(all_resolved);
}

TEST_CASE("prepare loads what frames will need, and frames come out the same", "[symbolizer]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    const std::vector<uint64_t> addresses = {library.leaf(), library.caller() + 3, library.twice()};
    std::vector<Frame> unprepared = Symbolizer().user_frames(self(), addresses);

    Symbolizer symbolizer;
    const std::atomic<bool> cancelled{false};
    symbolizer.prepare({self()}, cancelled);
    // Every executable file this test maps: itself, the fixture library, libc...
    const size_t parsed = symbolizer.files_parsed();
    CHECK(parsed >= 3);
    std::vector<Frame> prepared = symbolizer.user_frames(self(), addresses);
    CHECK(symbolizer.files_parsed() == parsed);  // nothing left to parse
    REQUIRE(prepared.size() == unprepared.size());
    for (size_t i = 0; i < prepared.size(); ++i) {
        CHECK(prepared[i].symbol == unprepared[i].symbol);
        CHECK(prepared[i].offset == unprepared[i].offset);
        CHECK(prepared[i].module == unprepared[i].module);
        CHECK(prepared[i].line == unprepared[i].line);
    }
}

TEST_CASE("a cancelled prepare parses no file", "[symbolizer]") {
    Symbolizer symbolizer;
    const std::atomic<bool> cancelled{true};
    symbolizer.prepare({self()}, cancelled);
    CHECK(symbolizer.files_parsed() == 0);
}

TEST_CASE("prepare may run while frames are resolved", "[symbolizer]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    Symbolizer symbolizer;
    const std::atomic<bool> cancelled{false};
    std::thread preparer([&] { symbolizer.prepare({self()}, cancelled); });
    bool all_resolved = true;
    for (int round = 0; round < 50; ++round) {
        std::vector<Frame> frames = symbolizer.user_frames(self(), {library.leaf() + 1});
        all_resolved = all_resolved && frames.at(0).symbol == "symfixture_leaf";
    }
    preparer.join();
    CHECK(all_resolved);
}

TEST_CASE("kernel frames of the running kernel", "[symbolizer][live]") {
    std::optional<uint64_t> schedule = symfixture::kallsyms_address("schedule");
    REQUIRE(schedule);
    if (*schedule == 0) {
        WARN("kernel addresses are hidden from this user: skipping");
        return;
    }
    Symbolizer symbolizer;
    std::vector<Frame> frames = symbolizer.kernel_frames({*schedule + 4, 0x10});
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].symbol == "schedule");
    CHECK(frames[0].offset == 4);
    CHECK(frames[0].module == "[kernel]");
    CHECK_FALSE(frames[1].resolved());
    CHECK(frames[1].module == "[kernel]");
}

TEST_CASE("kernel frames without kallsyms stay unresolved and say why", "[symbolizer]") {
    std::vector<std::string> warnings;
    Symbolizer symbolizer(
        [&](waketrace::LogLevel level, std::string_view message) {
            if (level == waketrace::LogLevel::warning)
                warnings.emplace_back(message);
        },
        "/nonexistent/kallsyms");
    std::vector<Frame> frames = symbolizer.kernel_frames({0xffffffff81000000});
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].resolved());
    CHECK(frames[0].module == "[kernel]");
    CHECK(frames[0].address == 0xffffffff81000000);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("/nonexistent/kallsyms"));

    symbolizer.kernel_frames({0xffffffff81000000});
    CHECK(warnings.size() == 1);  // tried and reported once
}

TEST_CASE("JIT code is named by the process's perf map, read as the JIT appends", "[symbolizer]") {
    AnonymousPage jit_code(PROT_READ | PROT_EXEC);
    const uint64_t base = jit_code.address();
    PerfMapFile perf_map;
    perf_map.append(fmt::format("{:x} 40 jitted::first(int)\n", base + 0x100));
    Symbolizer symbolizer;

    std::vector<Frame> frames = symbolizer.user_frames(self(), {base + 0x110, base + 0x400});
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].symbol == "jitted::first(int)");
    CHECK(frames[0].offset == 0x10);
    // Read through the process's own root: /proc/PID/root/tmp/perf-PID.map.
    const std::string& module = frames[0].module;
    CHECK(module.size() >= perf_map.path().size());
    CHECK(module.compare(module.size() - perf_map.path().size(), std::string::npos, perf_map.path()) == 0);
    CHECK(frames[0].address == base + 0x110);
    CHECK_FALSE(frames[1].resolved());  // not in the map (yet)

    // Compiled later: the map is read again on a miss.
    perf_map.append(fmt::format("{:x} 20 jitted::second\n", base + 0x800));
    frames = symbolizer.user_frames(self(), {base + 0x810});
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].symbol == "jitted::second");
    CHECK(frames[0].offset == 0x10);
}

TEST_CASE("a perf map cut at its cap names what came before, and the log says so", "[symbolizer][hostile]") {
    AnonymousPage jit_code(PROT_READ | PROT_EXEC);
    const uint64_t base = jit_code.address();
    PerfMapFile perf_map;
    perf_map.append(fmt::format("{:x} 40 jitted::early\n", base + 0x100));
    REQUIRE(::truncate(perf_map.path().c_str(), off_t(3) << 30) == 0);  // sparse: 3 GiB of holes
    perf_map.append(fmt::format("{:x} 40 jitted::late\n", base + 0x200));
    std::vector<std::string> warnings;
    Symbolizer symbolizer([&warnings](waketrace::LogLevel level, std::string_view message) {
        if (level == waketrace::LogLevel::warning)
            warnings.emplace_back(message);
    });

    std::vector<Frame> frames = symbolizer.user_frames(self(), {base + 0x110, base + 0x210});
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].symbol == "jitted::early");
    CHECK_FALSE(frames[1].resolved());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("perf map") != std::string::npos);
    CHECK(warnings[0].find("cut at") != std::string::npos);
}
