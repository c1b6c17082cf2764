// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A check made before a Rust v0 name ("_R...") is handed to libiberty.
// libiberty's v0 reader prints nothing while it reads an impl's own path or
// the instantiating crate (the parts it leaves out), yet still loops once
// per lifetime a binder ("G<base-62>_") declares: a 20-byte binder there
// declares 2^64 of them, and it never returns. Everything else it does is
// bounded by the name or by what it prints, which demangle() caps.
#pragma once

#include <string_view>

namespace waketrace::detail {

// Reads `mangled` ("_R" and what follows, up to a '.' suffix) by the v0
// grammar as libiberty reads it, without following back-references, and
// says whether it is well formed and declares no binder longer than the name
// itself. It follows the grammar of Debian's libiberty (2023), so what it
// rejects libiberty rejects too, but for the absurd binders; a newer v0
// construct libiberty learns later would be left mangled here until added.
bool rust_v0_well_formed(std::string_view mangled);

}  // namespace waketrace::detail
