// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unwind/unwind_memo.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace waketrace::detail {

bool UnwindMemo::read(const StackSnapshot& snapshot, uint64_t address, uint64_t* value) noexcept {
    if (!snapshot.stack || address < snapshot.stack_address)
        return false;
    const uint64_t offset = address - snapshot.stack_address;
    if (snapshot.stack_size < sizeof *value || offset > snapshot.stack_size - sizeof *value)
        return false;
    std::memcpy(value, snapshot.stack + offset, sizeof *value);
    return true;
}

// A place is rip and rsp, what every unwind depends on.
size_t UnwindMemo::place_hash(const StackSnapshot& snapshot) noexcept {
    uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a over rip, rsp
    for (size_t reg : {dwarf_register::rip, dwarf_register::rsp})
        hash = (hash ^ snapshot.registers[reg]) * 0x100000001b3ULL;
    return size_t(hash ^ (hash >> 32));
}

bool UnwindMemo::same_place(const Entry& entry, const StackSnapshot& snapshot) noexcept {
    for (size_t reg : {dwarf_register::rip, dwarf_register::rsp})
        if (entry.registers[reg] != snapshot.registers[reg])
            return false;
    return true;
}

bool UnwindMemo::repeats(const Entry& entry, const StackSnapshot& snapshot, size_t max_frames) noexcept {
    if (entry.max_frames != max_frames || !same_place(entry, snapshot))
        return false;
    const GivenRegisters given = given_registers(entry.inputs);
    if (!std::equal(entry.registers.begin() + given.first,
                    entry.registers.begin() + given.first + given.count,
                    snapshot.registers.begin() + given.first))
        return false;
    for (const Read& remembered : entry.reads) {
        uint64_t value = 0;
        const bool ok = read(snapshot, remembered.address, &value);
        if (ok != remembered.ok || (ok && remembered.important && value != remembered.value))
            return false;
    }
    return true;
}

void UnwindMemo::guess_important(std::vector<Read>& reads, const std::vector<uint64_t>& frames) {
    // A saved frame pointer leads to the next frame's reads just above it.
    constexpr uint64_t kNear = 256;
    for (size_t i = 0; i < reads.size(); ++i) {
        Read& read = reads[i];
        if (!read.ok)
            continue;  // a failure is compared anyway
        bool important = std::find(frames.begin(), frames.end(), read.value) != frames.end();
        for (size_t j = i + 1; j < reads.size() && !important; ++j)
            important = reads[j].address + kNear >= read.value && reads[j].address <= read.value + kNear;
        read.important = important;
    }
}

uint64_t UnwindMemo::poison(size_t read_index) noexcept {
    return 0xdead000000000000ULL | (uint64_t(read_index) << 4);
}

const std::vector<uint64_t>* UnwindMemo::find(const StackSnapshot& snapshot, size_t max_frames) const {
    auto [first, last] = entries_.equal_range(place_hash(snapshot));
    for (auto it = first; it != last; ++it)
        if (repeats(it->second, snapshot, max_frames))
            return &it->second.frames;
    return nullptr;
}

bool UnwindMemo::knows_place(const StackSnapshot& snapshot) const {
    auto [first, last] = entries_.equal_range(place_hash(snapshot));
    for (auto it = first; it != last; ++it)
        if (same_place(it->second, snapshot))
            return true;
    return false;
}

void UnwindMemo::remember(const StackSnapshot& snapshot, size_t max_frames, Inputs inputs,
                          std::vector<Read> reads, std::vector<uint64_t> frames) {
    if (capacity_ == 0)
        return;
    if (entries_.size() >= capacity_)
        entries_.clear();
    entries_.emplace(place_hash(snapshot),
                     Entry{snapshot.registers, inputs, max_frames, std::move(reads), std::move(frames)});
}

}  // namespace waketrace::detail
