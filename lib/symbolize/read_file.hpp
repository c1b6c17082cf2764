// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Whole-file reads for the small text files under /proc.
#pragma once

#include <string>

namespace waketrace::detail {

// Reads all of `path` into a string. /proc files report a size of 0, so
// this reads until end of file rather than trusting fstat.
// Throws waketrace::Error carrying the errno of the failed open or read.
std::string read_whole_file(const std::string& path);

}  // namespace waketrace::detail
