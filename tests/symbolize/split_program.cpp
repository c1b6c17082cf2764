// SPDX-License-Identifier: LGPL-2.1-or-later
#include "split_program.hpp"

#include <fcntl.h>

#include <catch2/catch.hpp>

#include "symbolize/build_id.hpp"
#include "support/unique_fd.hpp"

namespace symfixture {

std::string build_id_of(const std::string& path) {
    waketrace::detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    return waketrace::detail::read_build_id(fd.get());
}

void split_debug_info(const std::string& program, const std::string& debug_file) {
    copy_executable(SYMFIXTURE_SPLIT_PROGRAM, program);
    run_checked({"objcopy", "--only-keep-debug", program, debug_file});
    run_checked({"strip", "--strip-all", program});
}

void check_split_worker_frames(const std::vector<waketrace::Frame>& frames, const RunningProgram& program,
                               const std::string& path) {
    // The program printed a return address inside the worker, then the worker.
    uint64_t return_address = program.printed().at(0);
    uint64_t worker = program.printed().at(1);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].symbol == "symfixture_split_worker");
    CHECK(frames[0].offset == return_address - worker);
    CHECK(frames[0].address == return_address);
    CHECK(frames[0].module == canonical_path(path));
    CHECK_FALSE(frames[0].inlined);
    CHECK(names_file(frames[0].file, "fixture_split_program.c"));
    CHECK(frames[0].line == line_of(SYMFIXTURE_SPLIT_SOURCE, "line: record call"));
}

}  // namespace symfixture
