// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Private, immutable copies of files that traced processes control.
//
// libelf and libdw read ELF files through mmap. A mapping of a file that
// someone else truncates raises SIGBUS at the first read past the new end,
// and that someone may be the traced process itself (a library it mapped, a
// debug file beside it). So every ELF file is read from a copy in a sealed
// memfd: once the copy is sealed against shrinking and writing, nobody can
// truncate it, and reading it through mmap is safe.
#pragma once

#include <libelf.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "support/unique_fd.hpp"

namespace waketrace::detail {

// Files larger than this are not copied, and so not read: their frames stay
// unresolved. A copy costs memory for as long as its symbols are kept (the
// profiler's lifetime), so the cap bounds what one hostile or sparse file
// can cost. Holes of sparse files are not copied (they stay holes).
inline constexpr uint64_t max_private_copy_bytes = uint64_t(1) << 30;  // 1 GiB

// A sealed memfd holding the bytes `fd` has now (read with pread, so a
// concurrent truncation only shortens the copy). `name` labels the memfd and
// error messages. Throws waketrace::Error: EFBIG when the file is larger than
// `max_bytes`, otherwise the errno of the failed call (EMFILE when no fd is
// left for the memfd).
UniqueFd private_copy(int fd, const std::string& name, uint64_t max_bytes = max_private_copy_bytes);

// True when `fd` is sealed against shrinking and writing: no one can change
// what a mapping of it reads.
bool is_private_copy(int fd);

// `fd` itself when it is a private copy already, else private_copy() of it.
UniqueFd ensure_private_copy(UniqueFd fd, const std::string& name,
                             uint64_t max_bytes = max_private_copy_bytes);

// True when the private copy `copy` holds exactly `bytes`.
bool has_contents(int copy, std::string_view bytes);

// Told of a file that could not be read and why (an errno value: EFBIG above
// the cap, EMFILE when no fd was left, ...), so the caller can say so.
using UnreadableFileLog = std::function<void(int errno_value, std::string_view message)>;

// How libelf may read `fd`: through mmap only when it is a private copy,
// otherwise with pread (a truncation then reads as a short file, not SIGBUS).
Elf_Cmd safe_elf_read_command(int fd);

}  // namespace waketrace::detail
