// SPDX-License-Identifier: LGPL-2.1-or-later
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>

#include "fixtures.hpp"
#include "elf_symbols.hpp"
#include "process/process_maps.hpp"
#include "waketrace/error.hpp"

using waketrace::detail::Mapping;
using waketrace::detail::ProcessMaps;
using waketrace::test::ElfSymbols;
using waketrace::test::LoadSegment;
using waketrace::test::ResolvedSymbol;

namespace {

// Where `address` of this process lies in its file, as the symbolizer computes it.
uint64_t file_offset_of(uint64_t address) {
    std::optional<ProcessMaps> maps = ProcessMaps::read(static_cast<uint32_t>(getpid()));
    REQUIRE(maps);
    const Mapping* mapping = maps->find(address);
    REQUIRE(mapping);
    return address - mapping->start + mapping->file_offset;
}

int expect_load_error(const std::string& path) {
    try {
        ElfSymbols::load(path);
    } catch (const waketrace::Error& error) {
        return error.errno_value();
    }
    FAIL("load of " << path << " did not throw");
    return 0;
}

}  // namespace

TEST_CASE("ELF symbols of the fixture library", "[elf]") {
    symfixture::LoadedLibrary library(SYMFIXTURE_LIBRARY);
    ElfSymbols symbols = ElfSymbols::load(SYMFIXTURE_LIBRARY);
    CHECK(symbols.is_position_independent());
    CHECK_FALSE(symbols.load_segments().empty());
    CHECK(symbols.size() >= 3);

    SECTION("a function's first byte") {
        std::optional<ResolvedSymbol> symbol = symbols.lookup_file_offset(file_offset_of(library.leaf()));
        REQUIRE(symbol);
        CHECK(symbol->name == "symfixture_leaf");
        CHECK(symbol->offset == 0);
    }
    SECTION("inside a function") {
        std::optional<ResolvedSymbol> symbol =
            symbols.lookup_file_offset(file_offset_of(library.caller() + 9));
        REQUIRE(symbol);
        CHECK(symbol->name == "symfixture_caller");
        CHECK(symbol->offset == 9);
    }
    SECTION("C++ names are stored mangled") {
        std::optional<ResolvedSymbol> symbol = symbols.lookup_file_offset(file_offset_of(library.twice()));
        REQUIRE(symbol);
        CHECK(symbol->name == "_ZN10symfixture5inner5twiceEi");
    }
    SECTION("offsets outside every segment or function") {
        CHECK_FALSE(symbols.lookup_file_offset(0));  // the ELF header
        CHECK_FALSE(symbols.lookup_file_offset(uint64_t{1} << 40));
    }
}

TEST_CASE("ELF symbols of a non-PIE program", "[elf]") {
    symfixture::RunningProgram program;
    ElfSymbols symbols = ElfSymbols::load(SYMFIXTURE_PROGRAM);
    CHECK_FALSE(symbols.is_position_independent());

    // Not relocated: the run-time address is the ELF address.
    std::optional<ResolvedSymbol> by_address = symbols.lookup_address(program.worker_address() + 2);
    REQUIRE(by_address);
    CHECK(by_address->name == "symfixture_program_worker");
    CHECK(by_address->offset == 2);

    // And the file offset of that address leads to the same place.
    const LoadSegment* holder = nullptr;
    for (const LoadSegment& segment : symbols.load_segments()) {
        if (program.worker_address() >= segment.address &&
            program.worker_address() < segment.address + segment.file_size)
            holder = &segment;
    }
    REQUIRE(holder);
    uint64_t file_offset = program.worker_address() + 2 - holder->address + holder->file_offset;
    std::optional<ResolvedSymbol> by_offset = symbols.lookup_file_offset(file_offset);
    REQUIRE(by_offset);
    CHECK(by_offset->name == "symfixture_program_worker");
    CHECK(by_offset->offset == 2);
}

TEST_CASE("files that are not ELF throw", "[elf]") {
    symfixture::TempFile text("just some text, no ELF magic here\n");
    CHECK(expect_load_error(text.path()) == ENOEXEC);
    symfixture::TempFile empty("");
    CHECK(expect_load_error(empty.path()) == ENOEXEC);
    CHECK(expect_load_error("/nonexistent/libnothing.so") == ENOENT);
}
