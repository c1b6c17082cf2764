// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Rust's v0 symbol mangling ("_R..."), read back as Rust paths.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace waketrace::detail {

// "_RNvNtCs1234_7mycrate3foo3bar" -> "mycrate::foo::bar". Crate
// disambiguators (hashes) are left out, as the legacy demangling drops its
// hash; closures read "{closure#0}", generic arguments "::<u8>" (in values)
// or "<u8>" (in types). nullopt for what is not a v0 name or uses what this
// reader does not know (punycode identifiers, structured constants): callers
// keep the mangled name then.
std::optional<std::string> demangle_rust_v0(std::string_view mangled);

}  // namespace waketrace::detail
