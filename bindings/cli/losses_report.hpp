// SPDX-License-Identifier: LGPL-2.1-or-later
// Tells the user, on stderr, everything the profile is missing and what to do.
#pragma once

#include <cstdio>

#include "waketrace/config.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::cli {

// `config` is the one the profile was taken with: advice to enlarge a map
// names a size larger than the one that filled.
void report_losses(std::FILE* out, const Losses& losses, const Config& config);

}  // namespace waketrace::cli
