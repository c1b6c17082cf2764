// SPDX-License-Identifier: LGPL-2.1-or-later
//
// One ELF file's functions, inlined call chains and source lines, through
// libdwfl: from the file itself or from its separate debug file (found by
// build-id, .gnu_debuglink, or debuginfod when DEBUGINFOD_URLS is set).
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "process/private_copy.hpp"
#include "symbolize/symbol_table.hpp"
#include "support/unique_fd.hpp"
#include "waketrace/error.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::detail {

// libdwfl's debuginfo_path for these debug directories, searched by
// build-id as DIR/.build-id/xx/rest.debug, and by debuglink as
// DIR/<file's directory>/<debuglink>. Only absolute directories: the file's
// own directory and its .debug/ belong to whoever wrote the file, and
// DebugSymbols searches them itself (debug_file_beside.hpp). Directories
// holding ':' cannot be spelled in that syntax and are left out.
std::string debuginfo_path_for(const std::vector<std::string>& debug_directories);

class DebugSymbols {
public:
    // Takes the ELF file open as `fd`, and reads it from a private copy
    // (private_copy.hpp; `fd` is used as it is when it is one already), so
    // that truncating the file cannot crash the reader. `path` is its name as
    // the process sees it: separate debug files named by .gnu_debuglink are
    // looked for beside it, and read from private copies too.
    // `debuginfo_path` comes from debuginfo_path_for(). Reads the symbol
    // tables now (of the debug file when the file itself is stripped); DWARF
    // is read on the first lookup that needs it. `unreadable` hears of debug
    // files skipped (too big, no fd left). Throws waketrace::Error: ENOEXEC when
    // libdwfl cannot take the file, private_copy()'s errors (EFBIG, EMFILE).
    DebugSymbols(UniqueFd fd, const std::string& path, std::string debuginfo_path,
                 UnreadableFileLog unreadable = {});
    ~DebugSymbols();
    DebugSymbols(const DebugSymbols&) = delete;  // libdwfl keeps pointers into this object
    DebugSymbols& operator=(const DebugSymbols&) = delete;

    // What is at `file_offset` of the file, innermost first: the functions
    // inlined there (inlined = true, offset 0), then the function holding the
    // code, with its offset. Each has its source file and line when DWARF
    // knows them. `file_offset` is treated as a return address: lines and
    // inlining are looked up one byte before it, at the call, unless that
    // byte belongs to another function. Frames leave address and module to
    // the caller. Empty when nothing is known about the offset.
    std::vector<Frame> frames_at_file_offset(uint64_t file_offset);

    size_t symbol_count() const noexcept { return symbols_.size(); }
    // The file's GNU build-id in lower-case hex; empty when it has none.
    const std::string& build_id() const noexcept { return build_id_; }
    // The bytes of the (copied) file parsed: what tells two files with one
    // build-id apart.
    std::string_view contents() const;
    // Reads the DWARF now (inflating it when compressed) rather than at the
    // first lookup that needs it. Does nothing when there is none.
    void load_debug_info();

private:
    struct DwflEnd {
        void operator()(Dwfl* dwfl) const noexcept { dwfl_end(dwfl); }
    };
    // A PT_LOAD program header: file bytes [file_offset, file_offset + size)
    // are at module address `address`.
    struct Segment {
        uint64_t file_offset;
        uint64_t size;
        uint64_t address;
    };

    class CuFunctions;  // a CU's functions by address, built on first use

    static int find_debuginfo(Dwfl_Module* module, void** userdata, const char* module_name, Dwarf_Addr base,
                              const char* file_name, const char* debuglink, GElf_Word debuglink_crc,
                              char** debuginfo_file_name);
    int find_debug_file(Dwfl_Module* module, const char* file_name, const char* debuglink,
                        GElf_Word debuglink_crc, char** debuginfo_file_name);
    void read_segments();
    CuFunctions& functions_of(Dwarf_Die* cu);
    void read_symbols();
    std::optional<uint64_t> module_address(uint64_t file_offset) const;
    // Fills `outer` (file, line; name too when only DWARF knows it).
    std::vector<Frame> inlined_frames(uint64_t address, uint64_t code_address, Frame& outer);

    UnreadableFileLog unreadable_;
    std::string path_;
    std::string build_id_;
    dev_t file_device_ = 0;  // of the file as given, before it was copied
    ino_t file_inode_ = 0;
    std::string debuginfo_path_;
    char* debuginfo_path_pointer_;  // libdwfl wants a char** to it
    Dwfl_Callbacks callbacks_;
    std::unique_ptr<Dwfl, DwflEnd> dwfl_;
    Dwfl_Module* module_ = nullptr;  // owned by dwfl_
    std::vector<Segment> segments_;
    SymbolTable symbols_;
    std::unordered_map<Dwarf_Off, std::unique_ptr<CuFunctions>> cu_functions_;
};

}  // namespace waketrace::detail
