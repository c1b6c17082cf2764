// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The DWARF unwinder on made-up registers and stack bytes, with the real CFI
// of the files this process maps (its own binary, libc, libdw, ...).
//
// Input: byte 0 picks the executable mapping the ip is in; then 17 registers
// (8 bytes each, little-endian, in DWARF order; missing bytes are zero); the
// rest is the stack copy, starting at rsp. Random words seldom point at code
// or into the stack, so some are made to: a register or an aligned stack word
// whose top byte is 0xc0 becomes an address in executable mapping
// (byte 6 % count) at offset (low 32 bits % its size), and one whose top byte
// is 0x5a becomes an address in the stack copy (low 16 bits % its size).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "process/mapped_file.hpp"
#include "process/process_maps.hpp"
#include "unwind/user_stack_unwinder.hpp"

using waketrace::detail::Mapping;
using waketrace::detail::ProcessMaps;
using waketrace::detail::StackSnapshot;
using waketrace::detail::UserStackUnwinder;

namespace {

constexpr uint64_t stack_address = 0x7ffc12340000;
constexpr uint8_t code_word = 0xc0;
constexpr uint8_t stack_word = 0x5a;
constexpr size_t max_frames = 127;

// Set up once: opening the files and indexing their CFI is the slow part,
// and UserStackUnwinder keeps it for as long as the maps live.
struct OwnProcess {
    std::shared_ptr<const ProcessMaps> maps;
    std::vector<const Mapping*> code;  // executable file mappings
    UserStackUnwinder unwinder{waketrace::detail::open_mapped_file, max_frames};
};

OwnProcess& own_process() {
    static OwnProcess* process = [] {
        auto* own = new OwnProcess;
        std::optional<ProcessMaps> maps = ProcessMaps::read(static_cast<uint32_t>(::getpid()));
        if (!maps)
            std::abort();
        own->maps = std::make_shared<const ProcessMaps>(std::move(*maps));
        for (const Mapping& mapping : own->maps->mappings())
            if (mapping.executable && mapping.is_file())
                own->code.push_back(&mapping);
        if (own->code.empty())
            std::abort();
        return own;
    }();
    return *process;
}

uint64_t code_address(const OwnProcess& process, uint64_t word) {
    const Mapping& mapping = *process.code[((word >> 48) & 0xff) % process.code.size()];
    return mapping.start + (word & 0xffffffff) % (mapping.end - mapping.start);
}

uint64_t placed(const OwnProcess& process, uint64_t word, size_t stack_size) {
    const auto top = static_cast<uint8_t>(word >> 56);
    if (top == code_word)
        return code_address(process, word);
    if (top == stack_word && stack_size > 0)
        return stack_address + (word & 0xffff) % stack_size;
    return word;
}

uint64_t take_word(const uint8_t*& data, size_t& size) {
    uint64_t word = 0;
    const size_t taken = std::min(size, sizeof word);
    std::memcpy(&word, data, taken);  // x86_64: little-endian, as the BPF copy is
    data += taken;
    size -= taken;
    return word;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    OwnProcess& process = own_process();
    const Mapping& ip_mapping = *process.code[data[0] % process.code.size()];
    ++data;
    --size;

    StackSnapshot snapshot;
    snapshot.tgid = static_cast<uint32_t>(::getpid());
    snapshot.tid = snapshot.tgid;
    for (uint64_t& value : snapshot.registers)
        value = take_word(data, size);
    // The rest is the stack; its words are placed in a copy.
    std::vector<uint8_t> stack(data, data + size);
    for (size_t at = 0; at + 8 <= stack.size(); at += 8) {
        uint64_t word = 0;
        std::memcpy(&word, stack.data() + at, 8);
        word = placed(process, word, stack.size());
        std::memcpy(stack.data() + at, &word, 8);
    }
    for (uint64_t& value : snapshot.registers)
        value = placed(process, value, stack.size());
    namespace reg = waketrace::detail::dwarf_register;
    snapshot.registers[reg::rip] =
        ip_mapping.start + snapshot.registers[reg::rip] % (ip_mapping.end - ip_mapping.start);
    snapshot.registers[reg::rsp] = stack_address;
    snapshot.stack_address = stack_address;
    snapshot.stack = stack.data();
    snapshot.stack_size = stack.size();

    const std::vector<uint64_t> addresses = process.unwinder.unwind(process.maps, snapshot);
    // The ip first, then at most max_frames - 1 callers, none of them 0.
    if (addresses.empty() || addresses.size() > max_frames || addresses[0] != snapshot.ip())
        std::abort();
    for (uint64_t address : addresses)
        if (address == 0)
            std::abort();
    return 0;
}
