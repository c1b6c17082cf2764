// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Symbol names as people write them: C++ and Rust (legacy and v0) demangling,
// by libiberty, the demangler of binutils and GDB.
#pragma once

#include <string>
#include <string_view>

namespace waketrace::detail {

// "_ZN3foo3barEv" -> "foo::bar()". Legacy Rust names (Itanium-style, ending
// in a "17h<16 hex>E" hash) lose the hash and their $-escapes:
// "_ZN4core3fmt5write17h0123456789abcdefE" -> "core::fmt::write", also with
// rustc's LTO suffix ".llvm.NNNN". Rust v0 names ("_R...") lose their crate
// disambiguators: "_RNvNtCs1234_7mycrate3foo3bar" -> "mycrate::foo::bar".
// Anything else, anything the demangler rejects, or a name that reads as
// nothing, is returned unchanged.
std::string demangle(std::string_view name);

}  // namespace waketrace::detail
