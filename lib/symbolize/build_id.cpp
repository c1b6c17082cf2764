// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/build_id.hpp"

#include <elfutils/libdwelf.h>
#include <libelf.h>

#include <memory>

#include <fmt/format.h>

#include "process/private_copy.hpp"

namespace waketrace::detail {

namespace {

struct ElfEnd {
    void operator()(Elf* elf) const noexcept { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfEnd>;

}  // namespace

std::string read_build_id(int fd) {
    // libelf refuses to work until told which ELF version the caller speaks.
    static const bool libelf_ready = elf_version(EV_CURRENT) != EV_NONE;
    if (!libelf_ready)
        return {};
    ElfHandle elf(elf_begin(fd, safe_elf_read_command(fd), nullptr));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
        return {};
    return elf_build_id(elf.get());
}

std::string elf_build_id(Elf* elf) {
    const void* bits = nullptr;
    ssize_t length = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
    if (length <= 0)
        return {};
    const auto* bytes = static_cast<const unsigned char*>(bits);
    std::string hex;
    hex.reserve(static_cast<size_t>(length) * 2);
    for (ssize_t i = 0; i < length; ++i)
        fmt::format_to(std::back_inserter(hex), "{:02x}", bytes[i]);
    return hex;
}

}  // namespace waketrace::detail
