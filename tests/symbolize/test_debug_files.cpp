// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Stripped binaries named through their separate debug files, and the
// per-build-id cache of parsed files.
#include <catch2/catch.hpp>

#include <filesystem>

#include "fixtures.hpp"
#include "split_program.hpp"
#include "symbolize/symbolizer.hpp"

using waketrace::Frame;
using waketrace::detail::Symbolizer;

namespace {

constexpr const char* kallsyms = "/proc/kallsyms";

std::vector<Frame> frames_of(Symbolizer& symbolizer, const symfixture::RunningProgram& program) {
    return symbolizer.user_frames(static_cast<uint32_t>(program.pid()), {program.printed().at(0)});
}

void check_unresolved(const std::vector<Frame>& frames, const std::string& path) {
    REQUIRE(frames.size() == 1);
    CHECK_FALSE(frames[0].resolved());
    CHECK(frames[0].module == symfixture::canonical_path(path));
    CHECK(frames[0].file.empty());
}

}  // namespace

TEST_CASE("a stripped binary is named from its debug file found by build-id", "[debuginfo]") {
    symfixture::TempDirectory directory;
    std::string build_id = symfixture::build_id_of(SYMFIXTURE_SPLIT_PROGRAM);
    REQUIRE(build_id.size() == 40);  // ld's default sha1
    std::string build_id_directory = directory / "debug/.build-id/" + build_id.substr(0, 2);
    std::filesystem::create_directories(build_id_directory);
    std::string program = directory / "split_program";
    symfixture::split_debug_info(program, build_id_directory + "/" + build_id.substr(2) + ".debug");
    REQUIRE(symfixture::build_id_of(program) == build_id);  // strip keeps the note
    symfixture::RunningProgram running(program);

    SECTION("with the debug directory") {
        Symbolizer symbolizer({}, kallsyms, {directory / "debug"});
        symfixture::check_split_worker_frames(frames_of(symbolizer, running), running, program);
    }
    SECTION("with other debug directories only") {
        std::filesystem::create_directories(directory / "elsewhere");
        Symbolizer symbolizer({}, kallsyms, {directory / "elsewhere"});
        check_unresolved(frames_of(symbolizer, running), program);
    }
}

TEST_CASE("a stripped binary is named from the file its .gnu_debuglink names", "[debuginfo]") {
    symfixture::TempDirectory directory;
    std::string program = directory / "split_program";
    std::string debug_file = directory / "split_program.debug";
    symfixture::split_debug_info(program, debug_file);
    symfixture::run_checked({"objcopy", "--add-gnu-debuglink=" + debug_file, program});
    symfixture::RunningProgram running(program);
    Symbolizer symbolizer({}, kallsyms, {});  // no debug directories: beside the file only

    SECTION("next to the binary") {
        symfixture::check_split_worker_frames(frames_of(symbolizer, running), running, program);
    }
    SECTION("in .debug/ next to the binary") {
        std::filesystem::create_directories(directory / ".debug");
        std::filesystem::rename(debug_file, directory / ".debug/split_program.debug");
        symfixture::check_split_worker_frames(frames_of(symbolizer, running), running, program);
    }
    SECTION("nowhere to be found") {
        std::filesystem::remove(debug_file);
        check_unresolved(frames_of(symbolizer, running), program);
    }
}

TEST_CASE("copies of a binary with one build-id are parsed once", "[debuginfo][cache]") {
    symfixture::TempDirectory directory;
    symfixture::copy_executable(SYMFIXTURE_SPLIT_PROGRAM, directory / "first");
    symfixture::copy_executable(SYMFIXTURE_SPLIT_PROGRAM, directory / "second");
    symfixture::RunningProgram first(directory / "first");
    symfixture::RunningProgram second(directory / "second");
    Symbolizer symbolizer({}, kallsyms, {});

    symfixture::check_split_worker_frames(frames_of(symbolizer, first), first, directory / "first");
    CHECK(symbolizer.files_parsed() == 1);
    symfixture::check_split_worker_frames(frames_of(symbolizer, second), second, directory / "second");
    CHECK(symbolizer.files_parsed() == 1);
}

TEST_CASE("copies of a binary without a build-id are parsed once per file", "[debuginfo][cache]") {
    symfixture::TempDirectory directory;
    REQUIRE(symfixture::build_id_of(SYMFIXTURE_NO_BUILD_ID_PROGRAM).empty());
    symfixture::copy_executable(SYMFIXTURE_NO_BUILD_ID_PROGRAM, directory / "first");
    symfixture::copy_executable(SYMFIXTURE_NO_BUILD_ID_PROGRAM, directory / "second");
    symfixture::RunningProgram first(directory / "first");
    symfixture::RunningProgram second(directory / "second");
    Symbolizer symbolizer({}, kallsyms, {});

    symfixture::check_split_worker_frames(frames_of(symbolizer, first), first, directory / "first");
    symfixture::check_split_worker_frames(frames_of(symbolizer, first), first, directory / "first");
    CHECK(symbolizer.files_parsed() == 1);
    symfixture::check_split_worker_frames(frames_of(symbolizer, second), second, directory / "second");
    CHECK(symbolizer.files_parsed() == 2);
}
