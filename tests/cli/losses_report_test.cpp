// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The command's loss warnings for chains deeper than one level: each cause
// on a line of its own, naming the option to raise and a larger size, and
// nothing at all for a profile without losses.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "losses_report.hpp"

namespace {

std::string reported(const waketrace::Losses& losses, const waketrace::Config& config) {
    char* text = nullptr;
    size_t size = 0;
    std::FILE* out = open_memstream(&text, &size);
    REQUIRE(out != nullptr);
    waketrace::cli::report_losses(out, losses, config);
    std::fclose(out);
    std::string result(text, size);
    std::free(text);
    return result;
}

}  // namespace

TEST_CASE("lost waker levels are reported per cause, with the option to raise") {
    waketrace::Config config;
    config.chain_depth = 4;
    config.max_hops = 1000;
    config.max_off_cpu_threads = 200;
    CHECK(reported(waketrace::Losses{}, config).empty());

    waketrace::Losses losses;
    losses.chain_states_full = 3;
    losses.hop_map_full = 5;
    losses.hop_collisions = 7;
    const std::string text = reported(losses, config);
    CHECK(text ==
          "WARNING: 3 waker levels lost: a thread's last wait did not fit (rerun with "
          "--max-off-cpu-threads 800; those chains end in [waker's wait lost])\n"
          "WARNING: 5 waker levels lost to a full hop map (rerun with --max-hops 4000; those chains "
          "end in [waker's wait lost])\n"
          "WARNING: 7 waker levels lost to hop id collisions (another waker level hashed to the same "
          "id; those chains end in [waker's wait lost])\n");
}
