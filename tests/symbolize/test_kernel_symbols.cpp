// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "symbolize/kernel_symbols.hpp"
#include "support/read_file.hpp"

using waketrace::detail::KernelSymbols;

namespace {

// Out of order on purpose (modules first), with data symbols in between, an
// alias pair, and a line that is not kallsyms at all.
constexpr std::string_view fixture_kallsyms =
    "ffffffffc0000000 t ext4_fill_super\t[ext4]\n"
    "ffffffffc0000100 T ext4_read\t[ext4]\n"
    "ffffffffc0001000 t nft_do_chain\t[nf_tables]\n"
    "0000000000000000 A fixed_percpu_data\n"
    "ffffffff81000000 T first_function\n"
    "ffffffff81000000 T _stext\n"
    "ffffffff81000100 t local_helper\n"
    "ffffffff81000200 D some_data\n"
    "ffffffff81000280 b some_bss\n"
    "ffffffff81000300 W weak_function\n"
    "ffffffff81000380 w local_weak\n"
    "ffffffff81000400 r rodata_table\n"
    "not a kallsyms line\n"
    "ffffffff81000500 T last_function";  // no final newline

}  // namespace

TEST_CASE("kallsyms text keeps only text symbols", "[kallsyms]") {
    KernelSymbols symbols = KernelSymbols::parse(fixture_kallsyms);
    CHECK_FALSE(symbols.addresses_hidden());
    // 3 module + first_function (alias dropped) + local_helper + 2 weak + last.
    CHECK(symbols.size() == 8);

    SECTION("data symbols do not end a function") {
        waketrace::Frame frame = symbols.resolve(0xffffffff81000250);
        CHECK(frame.symbol == "local_helper");
        CHECK(frame.offset == 0x150);
        CHECK(frame.module == "[kernel]");

        CHECK(symbols.resolve(0xffffffff81000410).symbol == "local_weak");
    }
    SECTION("weak symbols are functions too") {
        waketrace::Frame frame = symbols.resolve(0xffffffff81000300);
        CHECK(frame.symbol == "weak_function");
        CHECK(frame.offset == 0);
    }
    SECTION("an alias keeps the name listed first") {
        CHECK(symbols.resolve(0xffffffff81000010).symbol == "first_function");
    }
    SECTION("module symbols name their module without brackets") {
        waketrace::Frame frame = symbols.resolve(0xffffffffc0000104);
        CHECK(frame.symbol == "ext4_read");
        CHECK(frame.module == "ext4");
        CHECK(frame.offset == 4);
        CHECK(frame.address == 0xffffffffc0000104);

        CHECK(symbols.resolve(0xffffffffc0001020).module == "nf_tables");
    }
    SECTION("the last line resolves without a trailing newline") {
        CHECK(symbols.resolve(0xffffffff81000508).symbol == "last_function");
    }
    SECTION("addresses below the first symbol stay unresolved") {
        waketrace::Frame frame = symbols.resolve(0xffffffff80ffffff);
        CHECK_FALSE(frame.resolved());
        CHECK(frame.module == "[kernel]");
        CHECK(frame.address == 0xffffffff80ffffff);
    }
}

TEST_CASE("kallsyms with hidden addresses resolves nothing", "[kallsyms]") {
    KernelSymbols symbols = KernelSymbols::parse(
        "0000000000000000 T _stext\n"
        "0000000000000000 t local_helper\n"
        "0000000000000000 T ext4_read\t[ext4]\n");
    CHECK(symbols.addresses_hidden());
    CHECK(symbols.size() == 0);
    waketrace::Frame frame = symbols.resolve(0xffffffff81000100);
    CHECK_FALSE(frame.resolved());
    CHECK(frame.module == "[kernel]");
}

TEST_CASE("kallsyms loads from a file", "[kallsyms]") {
    symfixture::TempFile file(fixture_kallsyms);
    KernelSymbols symbols = KernelSymbols::load(file.path());
    CHECK(symbols.size() == 8);
    CHECK(symbols.resolve(0xffffffff81000104).symbol == "local_helper");
}

TEST_CASE("a file is read line by line through any buffer size", "[kallsyms]") {
    symfixture::TempFile file(fixture_kallsyms);
    std::vector<std::string> expected;
    waketrace::detail::for_each_line(file.path(),
                                     [&](std::string_view line) { expected.emplace_back(line); });
    CHECK(expected.size() == 14);
    CHECK(expected.back() == "ffffffff81000500 T last_function");  // kept without its newline

    // Smaller than a line: the buffer grows; odd sizes split lines anywhere.
    for (size_t chunk : {1, 7, 64}) {
        INFO("chunk " << chunk);
        std::vector<std::string> lines;
        waketrace::detail::for_each_line(
            file.path(), [&](std::string_view line) { lines.emplace_back(line); }, chunk);
        CHECK(lines == expected);
    }
}

TEST_CASE("a missing kallsyms file throws with its errno", "[kallsyms]") {
    try {
        KernelSymbols::load("/nonexistent/kallsyms");
        FAIL("load did not throw");
    } catch (const waketrace::Error& error) {
        CHECK(error.errno_value() == ENOENT);
        CHECK_THAT(error.what(), Catch::Contains("/nonexistent/kallsyms"));
    }
}

TEST_CASE("the running kernel's kallsyms loads", "[kallsyms][live]") {
    KernelSymbols symbols = KernelSymbols::load();
    std::optional<uint64_t> schedule = symfixture::kallsyms_address("schedule");
    REQUIRE(schedule);
    if (symbols.addresses_hidden()) {
        WARN("kernel addresses are hidden from this user: checking nothing resolves");
        CHECK(*schedule == 0);
        CHECK_FALSE(symbols.resolve(0xffffffff81000000).resolved());
        return;
    }
    CHECK(symbols.size() > 1000);
    waketrace::Frame frame = symbols.resolve(*schedule + 4);
    CHECK(frame.symbol == "schedule");
    CHECK(frame.offset == 4);
    CHECK(frame.module == "[kernel]");
}
