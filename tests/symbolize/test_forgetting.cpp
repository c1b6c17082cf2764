// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A symbolizer drained for ever (Symbolizer::forget_processes,
// forget_unused_files) holds the files of the processes it remembers and of
// the last drains, not every file it met: a program copied to a new file
// for each run is parsed once per copy, and the copies gone are forgotten;
// a file forgotten and needed again is parsed again and names the same.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fixtures.hpp"
#include "symbolize/symbolizer.hpp"

using waketrace::Frame;
using waketrace::detail::ProcessRegistry;
using waketrace::detail::Symbolizer;

namespace {

// The worker's frame in `program`, named through the registry.
Frame worker_frame(Symbolizer& symbolizer, const symfixture::RunningProgram& program) {
    const std::vector<Frame> frames =
        symbolizer.user_frames(static_cast<uint32_t>(program.pid()), {program.worker_address() + 1});
    REQUIRE(frames.size() == 1);
    return frames[0];
}

bool lists(const std::vector<ProcessRegistry::Exited>& exited, pid_t pid) {
    return std::any_of(exited.begin(), exited.end(),
                       [&](const ProcessRegistry::Exited& process) { return process.tgid == uint32_t(pid); });
}

}  // namespace

TEST_CASE("a drained symbolizer keeps the files of the processes it remembers and of the last drains",
          "[symbolizer]") {
    symfixture::TempDirectory directory;
    Symbolizer symbolizer;
    constexpr uint64_t kKept = 2;  // drains a file nothing maps stays for
    Symbolizer::CacheSizes first{};
    for (int copy = 0; copy < 6; ++copy) {
        // Bytes of its own after the ELF contents: a parse of its own.
        const std::string path = directory / fmt::format("program-{}", copy);
        symfixture::copy_executable(SYMFIXTURE_PROGRAM, path);
        std::ofstream(path, std::ios::app) << "copy " << copy;
        const size_t parses_before = symbolizer.files_parsed();
        symfixture::RunningProgram program(path);
        symbolizer.processes().remember(static_cast<uint32_t>(program.pid()));
        const Frame named = worker_frame(symbolizer, program);
        CHECK(named.symbol == "symfixture_program_worker");
        CHECK(named.module == symfixture::canonical_path(path));
        CHECK(symbolizer.files_parsed() == parses_before + 1);

        // A drain while it runs keeps it and its files, used or not.
        const size_t parsed = symbolizer.files_parsed();
        for (uint64_t drain = 0; drain < kKept + 2; ++drain)
            symbolizer.forget_unused_files(kKept);
        CHECK(symbolizer.cache_sizes().processes == 1);
        CHECK(worker_frame(symbolizer, program).symbol == "symfixture_program_worker");
        CHECK(symbolizer.files_parsed() == parsed);  // still parsed

        const pid_t pid = program.pid();
        program.stop();
        {
            // (The list holds the snapshots until it goes.)
            const std::vector<ProcessRegistry::Exited> exited = symbolizer.processes().exited();
            CHECK(lists(exited, pid));
            symbolizer.forget_processes(exited);
        }
        symbolizer.forget_unused_files(kKept);
        const Symbolizer::CacheSizes sizes = symbolizer.cache_sizes();
        CHECK(sizes.processes == 0);
        CHECK(sizes.pinned_files == 0);
        if (copy == 0)
            first = sizes;
        INFO("copy " << copy << ": " << sizes.parsed_files << " parsed files, " << sizes.file_copies
                     << " copies held");
        // The copies gone before are forgotten: what is held does not grow
        // with the copies met.
        CHECK(sizes.parsed_files <= first.parsed_files);
        CHECK(sizes.file_copies <= first.file_copies);
    }
    // kKept drains later nothing is held.
    for (uint64_t drain = 0; drain < kKept; ++drain)
        symbolizer.forget_unused_files(kKept);
    const Symbolizer::CacheSizes idle = symbolizer.cache_sizes();
    CHECK(idle.parsed_files == 0);
    CHECK(idle.file_copies == 0);
    CHECK(idle.named_images == 0);

    // A forgotten file is parsed again when needed, and names the same.
    const std::string again = directory / "program-0";
    symfixture::RunningProgram program(again);
    const size_t parsed = symbolizer.files_parsed();
    const Frame named = worker_frame(symbolizer, program);
    CHECK(named.symbol == "symfixture_program_worker");
    CHECK(named.offset == 1);
    CHECK(named.module == symfixture::canonical_path(again));
    CHECK(symbolizer.files_parsed() > parsed);
}

TEST_CASE("a process that has not exited is not listed as exited", "[symbolizer]") {
    symfixture::RunningProgram program;
    Symbolizer symbolizer;
    symbolizer.processes().remember(static_cast<uint32_t>(program.pid()));
    CHECK_FALSE(lists(symbolizer.processes().exited(), program.pid()));
    // Forgetting a snapshot that was replaced since it was listed keeps the
    // new one (a tgid remembered again meanwhile).
    const std::vector<ProcessRegistry::Exited> stale = {
        {static_cast<uint32_t>(program.pid()), symbolizer.processes().image(uint32_t(program.pid()))}};
    symbolizer.processes().remember(static_cast<uint32_t>(program.pid()));
    symbolizer.forget_processes(stale);
    CHECK(symbolizer.processes().size() == 1);
    symbolizer.forget_processes(
        {{static_cast<uint32_t>(program.pid()), symbolizer.processes().image(uint32_t(program.pid()))}});
    CHECK(symbolizer.processes().size() == 0);
}
