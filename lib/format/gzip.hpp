// SPDX-License-Identifier: LGPL-2.1-or-later
//
// gzip (RFC 1952) through zlib: pprof profiles are stored gzipped.
#pragma once

#include <string>
#include <string_view>

namespace waketrace::format_internal {

// `bytes` as one gzip member. Throws std::bad_alloc when zlib runs out of
// memory; nothing else can fail.
std::string gzip(std::string_view bytes);

}  // namespace waketrace::format_internal
