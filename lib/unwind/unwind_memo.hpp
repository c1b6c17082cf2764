// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Unwinds remembered by what decided them, so a thread that blocks again and
// again in the same place is unwound once. For one process set-up (its
// modules fixed), libdwfl's unwind is a function of the registers it is
// given and of what its stack reads return, and each read's address follows
// from those before it: the same inputs give the same unwind, step for step.
//
// Most inputs differ at every blocking, though, without mattering: libdwfl
// restores every register a frame saved (loop counters, pointers), and is
// given every register. ProcessUnwinder finds what mattered by walking the
// stack again with only rip and rsp given, then if that differs with rip,
// rsp and rbp (the others are undefined to libdwfl, which ends any step that
// needs one), and with the reads that look unimportant (a value neither a
// frame nor near a later read's address) answered with poison:
// non-canonical addresses, unique per read, that would change the frames or
// the reads that follow if anything used them. When a checking walk agrees
// with the first (frames, outcome, every read's address and success) the
// unwind is remembered by the registers it was given and the values of the
// important reads; a snapshot that matches those, and whose other reads
// succeed or fail as they did, is answered from here. Code built without
// frame pointers often keeps a loop counter in rbp, which is why rbp is left
// out first. An unwind no checking walk agrees with is remembered by all
// registers and every read value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "unwind/stack_snapshot.hpp"

namespace waketrace::detail {

class UnwindMemo {
public:
    struct Read {
        uint64_t address = 0;
        uint64_t value = 0;  // 0 when the read failed
        bool ok = false;
        bool important = true;  // its value is compared at a lookup
    };
    // What an unwind was found to depend on, besides the important reads:
    // every register; rip, rsp and rbp; or rip and rsp.
    enum class Inputs { all_registers, frame_registers, stack_pointer };
    // The registers a walk with `inputs` is given, contiguous in DWARF
    // numbering (rbp = 6, rsp = 7): the first and how many. rip is given as
    // the pc.
    struct GivenRegisters {
        size_t first;
        size_t count;
    };
    static constexpr GivenRegisters given_registers(Inputs inputs) noexcept {
        switch (inputs) {
        case Inputs::frame_registers: return {dwarf_register::rbp, 2};
        case Inputs::stack_pointer: return {dwarf_register::rsp, 1};
        case Inputs::all_registers: break;
        }
        return {0, dwarf_register::count};
    }

    // Past `capacity` unwinds the memo starts again (memory stays bounded
    // whatever the workload).
    explicit UnwindMemo(size_t capacity = 1024) : capacity_(capacity) {}

    // The frames of a remembered unwind `snapshot` would repeat, or null.
    // Valid until the next remember().
    const std::vector<uint64_t>* find(const StackSnapshot& snapshot, size_t max_frames) const;
    // Whether an unwind from the same rip and rsp is remembered.
    bool knows_place(const StackSnapshot& snapshot) const;
    void remember(const StackSnapshot& snapshot, size_t max_frames, Inputs inputs, std::vector<Read> reads,
                  std::vector<uint64_t> frames);
    size_t size() const noexcept { return entries_.size(); }

    // Marks as unimportant the successful reads whose value is not one of
    // `frames` and is not within a small distance of a later read's address
    // (a frame pointer or stack pointer that leads on). A guess, which the
    // second walk checks.
    static void guess_important(std::vector<Read>& reads, const std::vector<uint64_t>& frames);
    // What the second walk returns for an unimportant read: a non-canonical
    // address, distinct per read.
    static uint64_t poison(size_t read_index) noexcept;

    // A word of the snapshot's stack copy, as the unwinder's memory reads
    // see it: false outside the copy.
    static bool read(const StackSnapshot& snapshot, uint64_t address, uint64_t* value) noexcept;

private:
    struct Entry {
        std::array<uint64_t, dwarf_register::count> registers;
        Inputs inputs;
        size_t max_frames;
        std::vector<Read> reads;  // in the order the unwind made them
        std::vector<uint64_t> frames;
    };
    static size_t place_hash(const StackSnapshot& snapshot) noexcept;
    static bool same_place(const Entry& entry, const StackSnapshot& snapshot) noexcept;
    static bool repeats(const Entry& entry, const StackSnapshot& snapshot, size_t max_frames) noexcept;

    size_t capacity_;
    std::unordered_multimap<size_t, Entry> entries_;  // by place_hash
};

}  // namespace waketrace::detail
