// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Symbol names as people write them: C++ and legacy Rust demangling.
#pragma once

#include <string>
#include <string_view>

namespace waketrace::detail {

// "_ZN3foo3barEv" -> "foo::bar()". Legacy Rust names (Itanium-style, ending
// in a "17h<16 hex>E" hash) lose the hash and their $-escapes:
// "_ZN4core3fmt5write17h0123456789abcdefE" -> "core::fmt::write".
// Anything else, or anything the demangler rejects, is returned unchanged.
std::string demangle(std::string_view name);

}  // namespace waketrace::detail
