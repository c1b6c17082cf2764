// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/debug_symbols.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "symbolize/demangle.hpp"

namespace waketrace::detail {

namespace {

struct FreeDeleter {
    void operator()(void* pointer) const noexcept { std::free(pointer); }
};

struct SourcePosition {
    std::string file;
    uint32_t line = 0;
};

bool is_function(const GElf_Sym& symbol, GElf_Addr address) {
    int type = GELF_ST_TYPE(symbol.st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && symbol.st_shndx != SHN_UNDEF &&
           address != 0;
}

// A subprogram's or inlined instance's name as the symbol table would spell
// it: the linkage (mangled) name when there is one, so C++ frames read the
// same whether inlined or not. Inlined instances hold their names in the
// abstract origin, which dwarf_attr_integrate follows.
std::string function_name(Dwarf_Die* die) {
    for (unsigned int attribute_name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name}) {
        Dwarf_Attribute attribute;
        Dwarf_Attribute* found = dwarf_attr_integrate(die, attribute_name, &attribute);
        if (const char* name = dwarf_formstring(found))
            return name;
    }
    return {};
}

// Where an inlined instance was called from: DW_AT_call_file/DW_AT_call_line.
SourcePosition call_site(Dwarf_Die* inlined) {
    SourcePosition position;
    Dwarf_Attribute attribute;
    Dwarf_Word value = 0;
    Dwarf_Die cu;
    Dwarf_Files* files = nullptr;
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attribute), &value) == 0 &&
        dwarf_diecu(inlined, &cu, nullptr, nullptr) &&
        dwarf_getsrcfiles(&cu, &files, nullptr) == 0) {
        if (const char* file = dwarf_filesrc(files, value, nullptr, nullptr))
            position.file = file;
    }
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attribute), &value) == 0)
        position.line = static_cast<uint32_t>(value);
    return position;
}

// The DIEs containing `pc` in `cu`, innermost first, each the concrete
// instance. dwarf_getscopes alone continues from an inlined instance into
// its abstract definition, which has no call sites, so only its innermost
// answer is kept and the chain is rebuilt from that DIE outwards.
class Scopes {
public:
    Scopes(Dwarf_Die* cu, Dwarf_Addr pc) {
        Dwarf_Die* found = nullptr;
        int count = dwarf_getscopes(cu, pc, &found);
        std::unique_ptr<Dwarf_Die, FreeDeleter> first(found);
        if (count <= 0)
            return;
        Dwarf_Die innermost = first.get()[0];
        found = nullptr;
        count = dwarf_getscopes_die(&innermost, &found);
        dies_.reset(found);
        count_ = count > 0 ? static_cast<size_t>(count) : 0;
    }
    size_t size() const noexcept { return count_; }
    Dwarf_Die* at(size_t index) const noexcept { return dies_.get() + index; }

private:
    std::unique_ptr<Dwarf_Die, FreeDeleter> dies_;
    size_t count_ = 0;
};

}  // namespace

std::string debuginfo_path_for(const std::vector<std::string>& debug_directories) {
    std::string path = ":.debug";  // the file's directory, then its .debug/
    for (const std::string& directory : debug_directories) {
        if (!directory.empty() && directory.find(':') == std::string::npos)
            path += ":" + directory;
    }
    return path;
}

DebugSymbols::DebugSymbols(UniqueFd fd, const std::string& path, std::string debuginfo_path)
    : debuginfo_path_(std::move(debuginfo_path)),
      debuginfo_path_pointer_(debuginfo_path_.data()),
      callbacks_{} {
    callbacks_.find_elf = dwfl_build_id_find_elf;
    callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
    callbacks_.section_address = dwfl_offline_section_address;
    callbacks_.debuginfo_path = &debuginfo_path_pointer_;
    dwfl_.reset(dwfl_begin(&callbacks_));
    if (!dwfl_)
        throw Error(ENOMEM, fmt::format("{}: cannot start libdwfl: {}", path, dwfl_errmsg(-1)));

    // Reported at bias 0, module addresses are the file's own ELF addresses,
    // the same in every process that maps it: what makes sharing this
    // object between processes (and copies with one build-id) correct.
    dwfl_report_begin(dwfl_.get());
    module_ = dwfl_report_elf(dwfl_.get(), path.c_str(), path.c_str(), fd.get(), 0, true);
    if (!module_)
        throw Error(ENOEXEC, fmt::format("{}: not a usable ELF file: {}", path, dwfl_errmsg(-1)));
    fd.release();  // dwfl_report_elf owns it on success
    dwfl_report_end(dwfl_.get(), nullptr, nullptr);

    read_segments();
    read_symbols();
}

void DebugSymbols::read_segments() {
    GElf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(module_, &bias);
    size_t count = 0;
    if (!elf || elf_getphdrnum(elf, &count) != 0)
        return;
    for (size_t i = 0; i < count; ++i) {
        GElf_Phdr header;
        if (gelf_getphdr(elf, static_cast<int>(i), &header) && header.p_type == PT_LOAD)
            segments_.push_back({header.p_offset, header.p_filesz, header.p_vaddr + bias});
    }
}

// libdwfl picks the table: .symtab of the file, else of its debug file, else
// .dynsym; plus MiniDebugInfo (.gnu_debugdata) when present. Addresses come
// back already moved to the file's layout.
void DebugSymbols::read_symbols() {
    int count = dwfl_module_getsymtab(module_);
    for (int i = 0; i < count; ++i) {
        GElf_Sym symbol;
        GElf_Addr address = 0;
        const char* name = dwfl_module_getsym_info(module_, i, &symbol, &address, nullptr,
                                                   nullptr, nullptr);
        if (name && *name && is_function(symbol, address))
            symbols_.add(name, address, symbol.st_size);
    }
    symbols_.finish();
}

std::optional<uint64_t> DebugSymbols::module_address(uint64_t file_offset) const {
    for (const Segment& segment : segments_) {
        if (file_offset >= segment.file_offset && file_offset - segment.file_offset < segment.size)
            return file_offset - segment.file_offset + segment.address;
    }
    return std::nullopt;
}

std::vector<Frame> DebugSymbols::frames_at_file_offset(uint64_t file_offset) {
    std::optional<uint64_t> address = module_address(file_offset);
    if (!address || *address == 0)
        return {};
    Frame outer;
    if (std::optional<FoundSymbol> symbol = symbols_.lookup(*address)) {
        outer.symbol = demangle(symbol->name);
        outer.offset = symbol->offset;
    }
    // A return address follows its call, and may be the first byte of the
    // next function when the call never returns: the call is one byte back.
    // A function's own first byte is no return address (an explicit one, or
    // a signal frame's), and one byte back would be another function.
    bool at_function_start = outer.resolved() && outer.offset == 0;
    uint64_t code_address = at_function_start ? *address : *address - 1;

    std::vector<Frame> frames = inlined_frames(*address, code_address, outer);
    if (!outer.resolved() && outer.file.empty() && frames.empty())
        return {};
    frames.push_back(std::move(outer));
    return frames;
}

// Walks the scopes at `code_address` outwards. The line table gives the
// innermost position; each inlined instance passed on the way out sits at the
// position found so far, and moves it to its own call site, which is then
// where the next frame out is. The last position belongs to `outer`.
std::vector<Frame> DebugSymbols::inlined_frames(uint64_t address, uint64_t code_address,
                                                Frame& outer) {
    SourcePosition position;
    if (Dwfl_Line* line = dwfl_module_getsrc(module_, code_address)) {
        int number = 0;
        if (const char* file = dwfl_lineinfo(line, nullptr, &number, nullptr, nullptr, nullptr)) {
            position.file = file;
            position.line = number > 0 ? static_cast<uint32_t>(number) : 0;
        }
    }

    std::vector<Frame> frames;
    Dwarf_Addr bias = 0;
    if (Dwarf_Die* cu = dwfl_module_addrdie(module_, code_address, &bias)) {
        Scopes scopes(cu, code_address - bias);
        for (size_t i = 0; i < scopes.size(); ++i) {
            Dwarf_Die* scope = scopes.at(i);
            int tag = dwarf_tag(scope);
            if (tag == DW_TAG_inlined_subroutine) {
                Frame inlined;
                inlined.symbol = demangle(function_name(scope));
                inlined.inlined = true;
                inlined.file = std::move(position.file);
                inlined.line = position.line;
                frames.push_back(std::move(inlined));
                position = call_site(scope);
            } else if (tag == DW_TAG_subprogram) {
                // Only DWARF knows this function (no symbol table entry).
                Dwarf_Addr entry = 0;
                if (!outer.resolved() && dwarf_entrypc(scope, &entry) == 0) {
                    outer.symbol = demangle(function_name(scope));
                    outer.offset = address - bias - entry;
                }
                break;
            }
        }
    }
    outer.file = std::move(position.file);
    outer.line = position.line;
    return frames;
}

}  // namespace waketrace::detail
