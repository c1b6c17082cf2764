// SPDX-License-Identifier: LGPL-2.1-or-later
#include "elf_symbols.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "waketrace/error.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::test {

using detail::UniqueFd;

namespace {

struct ElfEnd {
    void operator()(Elf* elf) const noexcept { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfEnd>;

[[noreturn]] void throw_libelf_error(const std::string& name, const char* what) {
    throw Error(ENOEXEC, fmt::format("{}: {}: {}", name, what, elf_errmsg(-1)));
}

// libelf refuses to work until told which ELF version the caller speaks;
// the answer never changes, so ask once (thread-safe static initialisation).
void initialise_libelf() {
    static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
    if (!ready)
        throw Error(ENOTSUP, "libelf does not support the current ELF version");
}

bool is_function(const GElf_Sym& symbol) {
    int type = GELF_ST_TYPE(symbol.st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && symbol.st_shndx != SHN_UNDEF &&
           symbol.st_value != 0;
}

}  // namespace

class ElfSymbols::Reader {
public:
    Reader(ElfSymbols& table, Elf* elf, const std::string& name) : table_(table), elf_(elf), name_(name) {}

    void read_header() {
        GElf_Ehdr header;
        if (!gelf_getehdr(elf_, &header))
            throw_libelf_error(name_, "no ELF header");
        table_.position_independent_ = header.e_type == ET_DYN;
    }

    void read_load_segments() {
        size_t count = 0;
        if (elf_getphdrnum(elf_, &count) != 0)
            throw_libelf_error(name_, "cannot read program headers");
        for (size_t i = 0; i < count; ++i) {
            GElf_Phdr header;
            if (gelf_getphdr(elf_, static_cast<int>(i), &header) && header.p_type == PT_LOAD)
                table_.segments_.push_back({header.p_offset, header.p_filesz, header.p_vaddr});
        }
    }

    // .symtab (full, absent from stripped files) and .dynsym (exported only)
    // overlap; both are read and duplicates dropped when sorting.
    void read_symbol_tables() {
        for (Elf_Scn* section = elf_nextscn(elf_, nullptr); section; section = elf_nextscn(elf_, section)) {
            GElf_Shdr header;
            if (!gelf_getshdr(section, &header))
                continue;
            if (header.sh_type == SHT_SYMTAB || header.sh_type == SHT_DYNSYM)
                read_symbol_table(section, header);
        }
    }

private:
    void read_symbol_table(Elf_Scn* section, const GElf_Shdr& header) {
        Elf_Data* data = elf_getdata(section, nullptr);
        if (!data || header.sh_entsize == 0)
            return;
        size_t count = header.sh_size / header.sh_entsize;
        for (size_t i = 0; i < count; ++i) {
            GElf_Sym symbol;
            if (!gelf_getsym(data, static_cast<int>(i), &symbol) || !is_function(symbol))
                continue;
            const char* name = elf_strptr(elf_, header.sh_link, symbol.st_name);
            if (name && *name)
                add(symbol, name);
        }
    }

    void add(const GElf_Sym& symbol, std::string_view name) {
        table_.symbols_.add(name, symbol.st_value, symbol.st_size);
    }

    ElfSymbols& table_;
    Elf* elf_;
    const std::string& name_;
};

ElfSymbols ElfSymbols::load(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw Error(errno, fmt::format("cannot open {}", path));
    return load(std::move(fd), path);
}

ElfSymbols ElfSymbols::load(UniqueFd fd, const std::string& name) {
    initialise_libelf();
    ElfHandle elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
    if (!elf)
        throw_libelf_error(name, "cannot read");
    if (elf_kind(elf.get()) != ELF_K_ELF)
        throw Error(ENOEXEC, fmt::format("{}: not an ELF file", name));

    ElfSymbols table;
    Reader reader(table, elf.get(), name);
    reader.read_header();
    reader.read_load_segments();
    reader.read_symbol_tables();

    table.symbols_.finish();
    return table;
}

std::optional<ResolvedSymbol> ElfSymbols::lookup_file_offset(uint64_t file_offset) const {
    for (const LoadSegment& segment : segments_) {
        if (file_offset >= segment.file_offset && file_offset - segment.file_offset < segment.file_size)
            return lookup_address(file_offset - segment.file_offset + segment.address);
    }
    return std::nullopt;
}

std::optional<ResolvedSymbol> ElfSymbols::lookup_address(uint64_t address) const {
    return symbols_.lookup(address);
}

}  // namespace waketrace::test
