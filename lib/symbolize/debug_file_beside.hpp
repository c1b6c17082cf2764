// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The separate debug file kept beside an ELF file (FILE's directory, or its
// .debug/ subdirectory), read from a private copy.
//
// Those directories are the traced process's own: a file found there may be
// truncated while read, may be huge or sparse, or may be a FIFO. libdwfl's
// standard lookup would open and mmap it as it is, so DebugSymbols looks
// there itself and hands libdwfl a private copy, and leaves libdwfl only
// the absolute debug directories (root's) and debuginfod.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "process/private_copy.hpp"
#include "support/unique_fd.hpp"

namespace waketrace::detail {

struct DebugFileQuery {
    std::string file_path;       // the ELF file as the process names it
    std::string debuglink;       // its .gnu_debuglink name; empty: FILE's basename + ".debug"
    uint32_t debuglink_crc = 0;  // 0: not checked
    std::string build_id;        // hex, of the ELF file; when set it must match
    dev_t file_device = 0;       // the ELF file itself, never taken as its own debug file
    ino_t file_inode = 0;
};

struct FoundDebugFile {
    UniqueFd copy;  // a private copy (private_copy.hpp)
    std::string path;
};

// Looks for DIR/DEBUGLINK, then DIR/.debug/DEBUGLINK, DIR being the ELF
// file's directory. A candidate is taken when it is a regular file other
// than the ELF file, and its build-id (or, without one, its CRC) matches.
// A debuglink naming a path (holding '/') is refused. Candidates that cannot
// be opened for lack of fds or copied (too big, no fd left) are skipped,
// and `unreadable` is told why.
std::optional<FoundDebugFile> find_debug_file_beside(const DebugFileQuery& query,
                                                     const UnreadableFileLog& unreadable);

}  // namespace waketrace::detail
