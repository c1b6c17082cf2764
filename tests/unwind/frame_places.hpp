// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Test helper: which file and function an address of this process lies in,
// to check unwound frames against.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "elf_symbols.hpp"
#include "process/process_maps.hpp"

namespace unwfixture {

struct FramePlace {
    std::string file;      // the mapped file's path, empty outside files
    std::string function;  // the ELF symbol, empty when none covers the address
};

class FramePlaces {
public:
    explicit FramePlaces(std::shared_ptr<const waketrace::detail::ProcessMaps> maps);

    FramePlace place_of(uint64_t address);
    // Places of unwound frames: the first as it is, return addresses minus 1
    // (the call instruction, which may be a function's last).
    std::vector<FramePlace> places_of(const std::vector<uint64_t>& frames);

private:
    std::shared_ptr<const waketrace::detail::ProcessMaps> maps_;
    std::map<std::string, waketrace::test::ElfSymbols> symbols_;  // by path
};

std::string describe(const std::vector<uint64_t>& frames, const std::vector<FramePlace>& places);

}  // namespace unwfixture
