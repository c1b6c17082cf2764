// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The GNU build-id of an ELF file: the identity of its contents, whatever its
// path, so copies and containers can share what was parsed from it.
#pragma once

#include <string>

namespace waketrace::detail {

// The build-id note of the ELF file open as `fd`, in lower-case hex (the
// spelling of /usr/lib/debug/.build-id/xx/rest.debug). Empty when the file
// has none or is not ELF. Reads only headers and notes; `fd` stays open and
// its position is not used.
std::string read_build_id(int fd);

}  // namespace waketrace::detail
