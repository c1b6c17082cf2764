// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What the BPF program copies when it takes a user stack in --dwarf mode: the
// thread's registers and the top of its stack, to be unwound in user space.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace waketrace::detail {

// x86_64 registers in DWARF numbering, the order of StackSnapshot::registers
// (the numbers .eh_frame rules use, so no translation is needed when unwinding).
namespace dwarf_register {
constexpr size_t rax = 0, rdx = 1, rcx = 2, rbx = 3, rsi = 4, rdi = 5, rbp = 6, rsp = 7;
constexpr size_t r8 = 8, r9 = 9, r10 = 10, r11 = 11, r12 = 12, r13 = 13, r14 = 14, r15 = 15;
constexpr size_t rip = 16;  // the return address column
constexpr size_t count = 17;
}  // namespace dwarf_register

// A view, not a copy: `stack` points into the ring buffer record (or wherever
// the caller keeps the bytes) and needs to stay valid only for the unwind()
// call that reads it. Stacks are copied 8 KiB at a time, so not copying them
// again per sample is worth the lifetime rule.
struct StackSnapshot {
    uint32_t tgid = 0;
    uint32_t tid = 0;
    std::array<uint64_t, dwarf_register::count> registers{};
    // User address of stack[0]: the thread's rsp when the copy was taken.
    uint64_t stack_address = 0;
    // May be shorter than asked for (the copy stopped at an unmapped page) or
    // empty; reads beyond it fail and end the unwind there.
    const uint8_t* stack = nullptr;
    size_t stack_size = 0;

    uint64_t ip() const noexcept { return registers[dwarf_register::rip]; }
};

}  // namespace waketrace::detail
