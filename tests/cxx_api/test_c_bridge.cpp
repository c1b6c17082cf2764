// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The installed C++ layer's conversions (waketrace/c_bridge.hpp) against the
// C ABI's own, without privileges: a Config sent as wt_profiler_opts must
// come back the same through the library's reading of them
// (bindings/c/options.cpp), and an Error worded for C callers
// (bindings/c/last_error.cpp) must come back as the Error it was.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "last_error.hpp"
#include "options.hpp"
#include "waketrace/c_bridge.hpp"

namespace wt = waketrace;

namespace {

wt::Config unusual_config() {
    wt::Config config;
    config.threads = wt::ThreadKind::kernel_only;
    config.state_mask = 2;
    config.min_block_us = 7;
    config.max_block_us = 7'000'000;
    config.stacks = wt::StackKinds::user_only;
    config.stack_storage_size = 1111;
    config.max_chains = 2222;
    config.max_off_cpu_threads = 3333;
    config.attach = wt::AttachMode::raw_tp;
    config.stack_sample_percent = 44;
    config.dwarf_stack_bytes = 4096;
    config.dwarf_ring_bytes = 1 << 20;
    config.chain_depth = 5;
    config.max_hops = 4444;
    return config;
}

}  // namespace

TEST_CASE("a Config sent through wt_profiler_opts is the Config the library reads") {
    const wt::Config sent = GENERATE(wt::Config{}, unusual_config());
    const wt_profiler_opts opts = wt::c_bridge::options_from(sent);
    CHECK(opts.sz == sizeof(opts));
    const wt::Config read = wt::c_api::config_from(&opts);
    CHECK(read.threads == sent.threads);
    CHECK(read.state_mask == sent.state_mask);
    CHECK(read.min_block_us == sent.min_block_us);
    CHECK(read.max_block_us == sent.max_block_us);
    CHECK(read.stacks == sent.stacks);
    CHECK(read.stack_storage_size == sent.stack_storage_size);
    CHECK(read.max_chains == sent.max_chains);
    CHECK(read.max_off_cpu_threads == sent.max_off_cpu_threads);
    CHECK(read.attach == sent.attach);
    CHECK(read.stack_sample_percent == sent.stack_sample_percent);
    CHECK(read.dwarf_stack_bytes == sent.dwarf_stack_bytes);
    CHECK(read.dwarf_ring_bytes == sent.dwarf_ring_bytes);
    CHECK(read.chain_depth == sent.chain_depth);
    CHECK(read.max_hops == sent.max_hops);
}

TEST_CASE("a state mask of 0 (preemptions only) is sent, not dropped as the default") {
    wt::Config config;
    config.state_mask = 0;
    const wt_profiler_opts opts = wt::c_bridge::options_from(config);
    CHECK(wt::c_api::config_from(&opts).state_mask == 0u);
}

TEST_CASE("zero where the C ABI reads the default is refused, as the library refuses it") {
    auto with = [](auto member) {
        wt::Config config;
        config.*member = 0;
        return config;
    };
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::max_chains)),
                      Catch::Contains("max_chains must be at least 1"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::stack_storage_size)),
                      Catch::Contains("stack_storage_size must be at least 1"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::max_off_cpu_threads)),
                      Catch::Contains("max_off_cpu_threads must be at least 1"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::max_block_us)),
                      Catch::Contains("max_block_us must be at least 1"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::stack_sample_percent)),
                      Catch::Contains("stack_sample_percent must be 1 to 100"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::chain_depth)),
                      Catch::Contains("chain_depth must be 1 to 8"));
    CHECK_THROWS_WITH(wt::c_bridge::options_from(with(&wt::Config::max_hops)),
                      Catch::Contains("max_hops must be at least 1"));
}

TEST_CASE("an Error worded for C comes back as the Error it was") {
    const wt::Error hinted(EPERM, "loading the BPF program failed",
                           wt::Hint{"log", "to see the verifier log"});
    const wt::Error plain(ESRCH, "no thread 5 is running");
    for (const wt::Error* original : {&hinted, &plain}) {
        const std::string c_text = wt::c_api::c_message(*original);
        CAPTURE(c_text);
        const wt::Error back = wt::c_bridge::error_from(original->errno_value(), c_text);
        CHECK(back.code() == original->code());
        CHECK(back.message() == original->message());
        CHECK(std::string(back.what()) == original->what());
        REQUIRE(back.hint().has_value() == original->hint().has_value());
        if (original->hint()) {
            CHECK(back.hint()->option == original->hint()->option);
            CHECK(back.hint()->purpose == original->hint()->purpose);
        }
    }
}

TEST_CASE("an error without a message or errno still says something") {
    const wt::Error error = wt::c_bridge::error_from(0, "");
    CHECK(error.errno_value() == EIO);
    CHECK_FALSE(error.message().empty());
}
