// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Reads of the text files under /proc: small ones whole, big ones
// (kallsyms: megabytes) a line at a time through one buffer.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace waketrace::detail {

// Reads all of `path` into a string. /proc files report a size of 0, so
// this reads until end of file rather than trusting fstat.
// Throws waketrace::Error carrying the errno of the failed open or read.
std::string read_whole_file(const std::string& path);

// Calls `visit` with each line of `path`, without its newline (a last line
// without one included). Lines longer than `chunk` are grown into.
// Throws like read_whole_file.
void for_each_line(const std::string& path, const std::function<void(std::string_view)>& visit,
                   size_t chunk = 256 * 1024);

}  // namespace waketrace::detail
