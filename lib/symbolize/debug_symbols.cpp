// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/debug_symbols.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "symbolize/build_id.hpp"
#include "symbolize/debug_file_beside.hpp"
#include "symbolize/demangle.hpp"
#include "process/private_copy.hpp"

namespace waketrace::detail {

namespace {

struct SourcePosition {
    std::string file;
    uint32_t line = 0;
};

// Where no debug directory is given, libdwfl still needs a path with an
// absolute entry (an empty one means the file's own directory, which is
// searched through a private copy instead): this one can never exist.
constexpr const char* no_debug_directory = "/proc/.waketrace-no-debug-directory";

std::string hex_of(const unsigned char* bytes, int length) {
    std::string hex;
    for (int i = 0; i < length; ++i)
        fmt::format_to(std::back_inserter(hex), "{:02x}", bytes[i]);
    return hex;
}

bool is_function(const GElf_Sym& symbol, GElf_Addr address) {
    int type = GELF_ST_TYPE(symbol.st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && symbol.st_shndx != SHN_UNDEF && address != 0;
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
        dwarf_diecu(inlined, &cu, nullptr, nullptr) && dwarf_getsrcfiles(&cu, &files, nullptr) == 0) {
        if (const char* file = dwarf_filesrc(files, value, nullptr, nullptr))
            position.file = file;
    }
    if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attribute), &value) == 0)
        position.line = static_cast<uint32_t>(value);
    return position;
}

bool is_scope_holder(int tag) {
    return tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
           tag == DW_TAG_union_type;
}

// A block that may hold inlined code at `pc`: one whose ranges contain it,
// or one without ranges of its own (then its children tell).
bool may_hold(Dwarf_Die* die, Dwarf_Addr pc) {
    const int tag = dwarf_tag(die);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block)
        return false;
    if (dwarf_haspc(die, pc) > 0)
        return true;
    return tag == DW_TAG_lexical_block && !dwarf_hasattr(die, DW_AT_low_pc) &&
           !dwarf_hasattr(die, DW_AT_ranges);
}

// Descends from `parent` to the innermost inlined instance holding `pc`,
// appending the instances passed, outermost first.
bool descend(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& inlined) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0)
        return false;
    do {
        if (!may_hold(&child, pc))
            continue;
        const bool is_inlined = dwarf_tag(&child) == DW_TAG_inlined_subroutine;
        if (is_inlined)
            inlined.push_back(child);
        if (descend(&child, pc, inlined) || is_inlined)
            return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

}  // namespace

// Every function with code in one CU, by address: found by binary search
// instead of a walk of the CU's whole DIE tree per address (what
// dwarf_getscopes does, and what made cold symbolization slow).
class DebugSymbols::CuFunctions {
public:
    explicit CuFunctions(Dwarf_Die* cu) {
        collect(cu);
        std::sort(ranges_.begin(), ranges_.end(),
                  [](const Range& a, const Range& b) { return a.low < b.low; });
    }

    // The subprogram holding `pc`, or nullptr. Functions' ranges do not
    // overlap, so only the last one starting at or below `pc` can hold it.
    Dwarf_Die* function_at(Dwarf_Addr pc) {
        auto above = std::upper_bound(ranges_.begin(), ranges_.end(), pc,
                                      [](Dwarf_Addr a, const Range& r) { return a < r.low; });
        if (above == ranges_.begin())
            return nullptr;
        --above;
        return pc < above->high ? &above->die : nullptr;
    }

private:
    struct Range {
        Dwarf_Addr low;
        Dwarf_Addr high;
        Dwarf_Die die;
    };

    void collect(Dwarf_Die* parent) {
        Dwarf_Die child;
        if (dwarf_child(parent, &child) != 0)
            return;
        do {
            const int tag = dwarf_tag(&child);
            if (tag == DW_TAG_subprogram)
                add_ranges(child);
            else if (is_scope_holder(tag))
                collect(&child);
        } while (dwarf_siblingof(&child, &child) == 0);
    }

    void add_ranges(Dwarf_Die die) {
        Dwarf_Addr base = 0, low = 0, high = 0;
        ptrdiff_t offset = 0;
        while ((offset = dwarf_ranges(&die, offset, &base, &low, &high)) > 0)
            if (low < high)
                ranges_.push_back({low, high, die});
    }

    std::vector<Range> ranges_;
};

std::string debuginfo_path_for(const std::vector<std::string>& debug_directories) {
    std::string path;
    for (const std::string& directory : debug_directories) {
        if (!directory.empty() && directory[0] == '/' && directory.find(':') == std::string::npos)
            path += (path.empty() ? "" : ":") + directory;
    }
    return path.empty() ? no_debug_directory : path;
}

DebugSymbols::DebugSymbols(UniqueFd fd, const std::string& path, std::string debuginfo_path,
                           UnreadableFileLog unreadable)
    : unreadable_(std::move(unreadable)),
      path_(path),
      debuginfo_path_(std::move(debuginfo_path)),
      debuginfo_path_pointer_(debuginfo_path_.data()),
      callbacks_{} {
    struct stat status {};
    if (::fstat(fd.get(), &status) == 0) {
        file_device_ = status.st_dev;
        file_inode_ = status.st_ino;
    }
    fd = ensure_private_copy(std::move(fd), path);

    callbacks_.find_elf = dwfl_build_id_find_elf;
    callbacks_.find_debuginfo = find_debuginfo;
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
    void** userdata = nullptr;
    dwfl_module_info(module_, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    *userdata = this;  // for find_debuginfo

    read_segments();
    read_symbols();
    GElf_Addr bias = 0;
    build_id_ = elf_build_id(dwfl_module_getelf(module_, &bias));
}

DebugSymbols::~DebugSymbols() = default;

std::string_view DebugSymbols::contents() const {
    GElf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(module_, &bias);
    size_t size = 0;
    const char* bytes = elf ? elf_rawfile(elf, &size) : nullptr;
    return bytes ? std::string_view(bytes, size) : std::string_view();
}

int DebugSymbols::find_debuginfo(Dwfl_Module* module, void** userdata, const char*, Dwarf_Addr,
                                 const char* file_name, const char* debuglink, GElf_Word debuglink_crc,
                                 char** debuginfo_file_name) {
    auto* self = static_cast<DebugSymbols*>(*userdata);
    if (!self)
        return -1;
    return self->find_debug_file(module, file_name, debuglink, debuglink_crc, debuginfo_file_name);
}

// Beside the file first, from a private copy; then libdwfl's standard lookup,
// which debuginfo_path_ keeps to the absolute debug directories (and
// debuginfod). Also called for a dwz alternate file (debuglink is then its
// path); only the standard lookup finds those.
int DebugSymbols::find_debug_file(Dwfl_Module* module, const char* file_name, const char* debuglink,
                                  GElf_Word debuglink_crc, char** debuginfo_file_name) {
    DebugFileQuery query;
    query.file_path = file_name ? file_name : path_;
    query.debuglink = debuglink ? debuglink : "";
    query.debuglink_crc = debuglink_crc;
    const unsigned char* bits = nullptr;
    GElf_Addr vaddr = 0;
    int length = dwfl_module_build_id(module, &bits, &vaddr);
    if (length > 0)
        query.build_id = hex_of(bits, length);
    query.file_device = file_device_;
    query.file_inode = file_inode_;
    if (std::optional<FoundDebugFile> found = find_debug_file_beside(query, unreadable_)) {
        *debuginfo_file_name = ::strdup(found->path.c_str());
        return found->copy.release();
    }
    // A debuglink naming a path could climb out of a debug directory: the
    // standard lookup gets its last component only.
    const char* name = debuglink ? std::strrchr(debuglink, '/') : nullptr;
    return dwfl_standard_find_debuginfo(module, nullptr, nullptr, 0, file_name, name ? name + 1 : debuglink,
                                        debuglink_crc, debuginfo_file_name);
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
        const char* name = dwfl_module_getsym_info(module_, i, &symbol, &address, nullptr, nullptr, nullptr);
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

DebugSymbols::CuFunctions& DebugSymbols::functions_of(Dwarf_Die* cu) {
    auto [entry, inserted] = cu_functions_.try_emplace(dwarf_dieoffset(cu));
    if (inserted)
        entry->second = std::make_unique<CuFunctions>(cu);
    return *entry->second;
}

void DebugSymbols::load_debug_info() {
    Dwarf_Addr bias = 0;
    dwfl_module_getdwarf(module_, &bias);
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
std::vector<Frame> DebugSymbols::inlined_frames(uint64_t address, uint64_t code_address, Frame& outer) {
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
    Dwarf_Die* cu = dwfl_module_addrdie(module_, code_address, &bias);
    Dwarf_Die* function = cu ? functions_of(cu).function_at(code_address - bias) : nullptr;
    if (function) {
        std::vector<Dwarf_Die> inlined;
        descend(function, code_address - bias, inlined);
        for (auto instance = inlined.rbegin(); instance != inlined.rend(); ++instance) {
            Frame frame;
            frame.symbol = demangle(function_name(&*instance));
            frame.inlined = true;
            frame.file = std::move(position.file);
            frame.line = position.line;
            frames.push_back(std::move(frame));
            position = call_site(&*instance);
        }
        // Only DWARF knows this function (no symbol table entry).
        Dwarf_Addr entry = 0;
        if (!outer.resolved() && dwarf_entrypc(function, &entry) == 0) {
            outer.symbol = demangle(function_name(function));
            outer.offset = address - bias - entry;
        }
    }
    outer.file = std::move(position.file);
    outer.line = position.line;
    return frames;
}

}  // namespace waketrace::detail
