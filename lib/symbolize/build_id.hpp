// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GNU build-id of an ELF file: what its linker says identifies its
// contents. Anyone can write any build-id into a file, so it names a
// candidate, never proof that two files are the same.
#pragma once

#include <libelf.h>

#include <string>

namespace waketrace::detail {

// The build-id note of the ELF file open as `fd`, in lower-case hex (the
// spelling of /usr/lib/debug/.build-id/xx/rest.debug). Empty when the file
// has none or is not ELF. Reads only headers and notes; `fd` stays open and
// its position is not used. Through mmap only for a private copy
// (private_copy.hpp): another file is read with pread, which a truncation
// cannot turn into SIGBUS.
std::string read_build_id(int fd);

// The same for an ELF file libelf has open already.
std::string elf_build_id(Elf* elf);

}  // namespace waketrace::detail
