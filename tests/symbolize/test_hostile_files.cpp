// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Files the traced processes control, turned against the profiler: a mapped
// library truncated under it, a huge sparse file, two binaries claiming one
// build-id, a corrupted copy parsed first, and no fd left to open files with.
// None may crash it, make it read without bound, rename another file's
// frames, or fail silently.
#include <catch2/catch.hpp>

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "fixtures.hpp"
#include "split_program.hpp"
#include "symbolize/debug_symbols.hpp"
#include "process/private_copy.hpp"
#include "process/process_maps.hpp"
#include "symbolize/symbolizer.hpp"
#include "support/unique_fd.hpp"

using waketrace::Frame;
using waketrace::LogLevel;
using waketrace::detail::DebugSymbols;
using waketrace::detail::Symbolizer;
using waketrace::detail::UniqueFd;

namespace {

uint32_t self() { return static_cast<uint32_t>(getpid()); }

UniqueFd open_read_only(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    return fd;
}

// Where `address` of this process is in the file mapped there.
uint64_t file_offset_of(uint64_t address) {
    std::optional<waketrace::detail::ProcessMaps> maps = waketrace::detail::ProcessMaps::read(self());
    REQUIRE(maps);
    const waketrace::detail::Mapping* mapping = maps->find(address);
    REQUIRE(mapping);
    return address - mapping->start + mapping->file_offset;
}

// A whole file mapped executable into this process, as a loader would map
// code (without running anything in it, so truncating the file cannot hurt
// this process). Unmapped on destruction.
class ExecutableMapping {
public:
    explicit ExecutableMapping(const std::string& path, size_t length = 0) {
        UniqueFd fd = open_read_only(path);
        struct stat status {};
        REQUIRE(::fstat(fd.get(), &status) == 0);
        length_ = length ? length : static_cast<size_t>(status.st_size);
        base_ = ::mmap(nullptr, length_, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd.get(), 0);
        REQUIRE(base_ != MAP_FAILED);
    }
    ~ExecutableMapping() { ::munmap(base_, length_); }
    ExecutableMapping(const ExecutableMapping&) = delete;
    ExecutableMapping& operator=(const ExecutableMapping&) = delete;

    uint64_t address_of(uint64_t file_offset) const {
        REQUIRE(file_offset < length_);
        return reinterpret_cast<uint64_t>(base_) + file_offset;
    }

private:
    void* base_ = nullptr;
    size_t length_ = 0;
};

// What a Symbolizer logged.
struct LogRecord {
    LogLevel level;
    std::string message;
};

class LogCapture {
public:
    Symbolizer::Log callback() {
        return [this](LogLevel level, std::string_view message) {
            records_.push_back({level, std::string(message)});
        };
    }
    // Warnings holding `text`.
    size_t warnings_with(std::string_view text) const {
        return static_cast<size_t>(std::count_if(records_.begin(), records_.end(), [&](const LogRecord& r) {
            return r.level == LogLevel::warning && r.message.find(text) != std::string::npos;
        }));
    }

private:
    std::vector<LogRecord> records_;
};

// Lowers the soft RLIMIT_NOFILE to a few fds and takes every free one below
// it, as `ulimit -n 32` does to a busy process: any open() now fails with
// EMFILE. Gives the fds and the limit back on destruction.
class FdExhaustion {
public:
    FdExhaustion() {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        struct rlimit low = saved_;
        low.rlim_cur = 32;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        for (;;) {
            int fd = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
                break;
            taken_.push_back(fd);
        }
    }
    ~FdExhaustion() {
        for (int fd : taken_)
            ::close(fd);
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
    FdExhaustion(const FdExhaustion&) = delete;
    FdExhaustion& operator=(const FdExhaustion&) = delete;

private:
    struct rlimit saved_ {};
    std::vector<int> taken_;
};

uint32_t inline_line(std::string_view marker) {
    return symfixture::line_of(SYMFIXTURE_INLINE_SOURCE, marker);
}

// The frames of the inline fixture's return address inside the inlined
// scaled(), as an untouched file gives them.
void check_inline_frames(const std::vector<Frame>& frames) {
    REQUIRE(frames.size() >= 2);
    CHECK(frames[0].symbol == "symfixture::inlining::scaled(int)");
    CHECK(frames[0].inlined);
    CHECK(frames[0].line == inline_line("line: call in scaled"));
    CHECK(frames[1].symbol == "symfixture::inlining::outer(int)");
    CHECK_FALSE(frames[1].inlined);
    CHECK(frames[1].line == inline_line("line: scaled in outer"));
}

// The return address inside the inlined scaled() of the inline fixture
// loaded from its build directory, as an offset into the library file.
uint64_t inline_return_offset(const symfixture::Library& library) {
    auto run = reinterpret_cast<uint64_t (*)(int)>(library.address_of("symfixture_inline_return_address"));
    return file_offset_of(run(4));
}

// A copy of the ELF file at `path` whose PT_LOAD headers are blanked: its
// build-id note still reads, but libdwfl refuses it (no loadable segment).
std::string without_load_segments(const std::string& path) {
    std::string bytes = symfixture::read_file(path);
    Elf64_Ehdr header;
    REQUIRE(bytes.size() >= sizeof header);
    std::memcpy(&header, bytes.data(), sizeof header);
    REQUIRE(header.e_phoff + size_t(header.e_phnum) * sizeof(Elf64_Phdr) <= bytes.size());
    size_t blanked = 0;
    for (size_t i = 0; i < header.e_phnum; ++i) {
        char* at = bytes.data() + header.e_phoff + i * sizeof(Elf64_Phdr);
        Elf64_Phdr program_header;
        std::memcpy(&program_header, at, sizeof program_header);
        if (program_header.p_type == PT_LOAD) {
            program_header.p_type = PT_NULL;
            std::memcpy(at, &program_header, sizeof program_header);
            ++blanked;
        }
    }
    REQUIRE(blanked > 0);
    return bytes;
}

}  // namespace

TEST_CASE("DWARF of a file truncated after it was opened still reads, from the copy", "[hostile][truncate]") {
    symfixture::Library original(SYMFIXTURE_INLINE_LIBRARY);
    const uint64_t offset = inline_return_offset(original);
    symfixture::TempFile file(symfixture::read_file(SYMFIXTURE_INLINE_LIBRARY));

    // Opened (symbol tables read), the DWARF not read yet: then cut to
    // nothing, as a process may do to a library it mapped.
    DebugSymbols symbols(open_read_only(file.path()), file.path(), waketrace::detail::debuginfo_path_for({}));
    REQUIRE(::truncate(file.path().c_str(), 0) == 0);

    check_inline_frames(symbols.frames_at_file_offset(offset));
}

TEST_CASE("a library truncated under the symbolizer neither crashes it nor costs other frames",
          "[hostile][truncate]") {
    symfixture::Library original(SYMFIXTURE_INLINE_LIBRARY);
    const uint64_t offset = inline_return_offset(original);
    symfixture::LoadedLibrary other(SYMFIXTURE_LIBRARY);
    const uint64_t leaf = other.leaf() + 2;
    symfixture::TempFile file(symfixture::read_file(SYMFIXTURE_INLINE_LIBRARY));
    ExecutableMapping mapping(file.path());

    SECTION("cut after it was parsed") {
        // prepare() parses every code file of the process, DWARF included,
        // as the profiler does in the background; the source lines of a CU
        // are read only when an address in it is named.
        Symbolizer symbolizer;
        std::atomic<bool> cancelled{false};
        symbolizer.prepare({self()}, cancelled);
        REQUIRE(::truncate(file.path().c_str(), 0) == 0);

        std::vector<Frame> frames = symbolizer.user_frames(self(), {mapping.address_of(offset), leaf});
        REQUIRE(frames.size() == 3);
        check_inline_frames(frames);
        CHECK(frames[0].module == symfixture::canonical_path(file.path()));
        CHECK(frames[2].symbol == "symfixture_leaf");
        CHECK(frames[2].offset == 2);
    }
    SECTION("cut before it was ever read") {
        Symbolizer symbolizer;
        symbolizer.processes().remember(self());  // the file is pinned, then cut
        REQUIRE(::truncate(file.path().c_str(), 0) == 0);

        std::vector<Frame> frames = symbolizer.user_frames(self(), {mapping.address_of(offset), leaf});
        REQUIRE(frames.size() == 2);
        // An empty file names nothing, but its frame keeps its module.
        CHECK_FALSE(frames[0].resolved());
        CHECK(frames[0].module == symfixture::canonical_path(file.path()));
        CHECK(frames[1].symbol == "symfixture_leaf");
        CHECK(frames[1].offset == 2);
    }
}

TEST_CASE("two binaries claiming one build-id are each named from their own file", "[hostile][build-id]") {
    const std::string claimed = symfixture::build_id_of(SYMFIXTURE_FORGED_PROGRAM);
    REQUIRE(claimed.size() == 40);
    REQUIRE(symfixture::build_id_of(SYMFIXTURE_FORGED_SPLIT_PROGRAM) == claimed);
    symfixture::RunningProgram plain(SYMFIXTURE_FORGED_PROGRAM);
    symfixture::RunningProgram split(SYMFIXTURE_FORGED_SPLIT_PROGRAM);
    Symbolizer symbolizer;

    std::vector<Frame> plain_frames =
        symbolizer.user_frames(static_cast<uint32_t>(plain.pid()), {plain.worker_address() + 1});
    REQUIRE(plain_frames.size() == 1);
    CHECK(plain_frames[0].symbol == "symfixture_program_worker");
    CHECK(plain_frames[0].offset == 1);

    // Parsed second: a cache keyed by build-id alone would answer with the
    // first program's names.
    symfixture::check_split_worker_frames(
        symbolizer.user_frames(static_cast<uint32_t>(split.pid()), {split.printed().at(0)}), split,
        SYMFIXTURE_FORGED_SPLIT_PROGRAM);
    CHECK(symbolizer.files_parsed() == 2);
}

TEST_CASE("a corrupted copy parsed first does not blank the genuine file", "[hostile][build-id]") {
    symfixture::TempFile corrupted(without_load_segments(SYMFIXTURE_SPLIT_PROGRAM));
    const std::string build_id = symfixture::build_id_of(SYMFIXTURE_SPLIT_PROGRAM);
    REQUIRE(build_id.size() == 40);
    REQUIRE(symfixture::build_id_of(corrupted.path()) == build_id);
    ExecutableMapping corrupted_mapping(corrupted.path());
    Symbolizer symbolizer;

    std::vector<Frame> corrupted_frames =
        symbolizer.user_frames(self(), {corrupted_mapping.address_of(0x1000)});
    REQUIRE(corrupted_frames.size() == 1);
    CHECK_FALSE(corrupted_frames[0].resolved());

    symfixture::RunningProgram genuine(SYMFIXTURE_SPLIT_PROGRAM);
    symfixture::check_split_worker_frames(
        symbolizer.user_frames(static_cast<uint32_t>(genuine.pid()), {genuine.printed().at(0)}), genuine,
        SYMFIXTURE_SPLIT_PROGRAM);
}

TEST_CASE("no fd left to open a file with is a warning naming EMFILE, not silence", "[hostile][fds]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    const std::string library_path = symfixture::canonical_path(SYMFIXTURE_LIBRARY);
    LogCapture log;
    Symbolizer symbolizer(log.callback());
    symbolizer.processes().remember(self());  // maps read while fds were plenty

    std::vector<Frame> starved;
    {
        FdExhaustion no_fds;
        starved =
            symbolizer.user_frames(self(), {library.leaf() + 2, reinterpret_cast<uint64_t>(&::getpid) + 1});
    }
    REQUIRE(starved.size() == 2);
    CHECK_FALSE(starved[0].resolved());
    CHECK(starved[0].module == library_path);
    CHECK_FALSE(starved[1].resolved());
    // Both files failed alike; the cause is told once.
    CHECK(log.warnings_with("EMFILE") == 1);
    CHECK(symbolizer.files_unreadable() >= 2);

    // With fds again, the file is read at the next address that needs it.
    std::vector<Frame> frames = symbolizer.user_frames(self(), {library.caller() + 3});
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].symbol == "symfixture_caller");
}

TEST_CASE("a file above the copy cap is skipped with a warning, without reading it", "[hostile][cap]") {
    // The fixture library's bytes, then a hole up to past the cap: 1 GiB
    // and more apparent size on a few KiB of disk.
    symfixture::TempFile huge(symfixture::read_file(SYMFIXTURE_LIBRARY));
    REQUIRE(::truncate(huge.path().c_str(),
                       static_cast<off_t>(waketrace::detail::max_private_copy_bytes + 4096)) == 0);
    ExecutableMapping mapping(huge.path(), 1 << 20);
    LogCapture log;
    Symbolizer symbolizer(log.callback());

    auto started = std::chrono::steady_clock::now();
    std::vector<Frame> frames = symbolizer.user_frames(self(), {mapping.address_of(0x1000)});
    auto elapsed = std::chrono::steady_clock::now() - started;
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].resolved());
    CHECK(frames[0].module == symfixture::canonical_path(huge.path()));
    CHECK(log.warnings_with("EFBIG") == 1);
    CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("a sparse file below the cap is copied without its holes", "[hostile][cap]") {
    symfixture::TempFile sparse("ELF bytes at the start");
    const off_t apparent = off_t(512) << 20;
    REQUIRE(::truncate(sparse.path().c_str(), apparent) == 0);
    UniqueFd original = open_read_only(sparse.path());

    UniqueFd copy = waketrace::detail::private_copy(original.get(), sparse.path());
    struct stat status {};
    REQUIRE(::fstat(copy.get(), &status) == 0);
    CHECK(status.st_size == apparent);
    CHECK(status.st_blocks * 512 < (1 << 20));  // the holes stayed holes
    CHECK(waketrace::detail::is_private_copy(copy.get()));
    CHECK_FALSE(waketrace::detail::is_private_copy(original.get()));
    char start[3] = {};
    REQUIRE(::pread(copy.get(), start, sizeof start, 0) == 3);
    CHECK(std::string(start, 3) == "ELF");
    // Sealed: not even its owner can cut it.
    CHECK(::ftruncate(copy.get(), 0) != 0);
}
