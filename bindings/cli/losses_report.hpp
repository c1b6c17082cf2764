// Tells the user, on stderr, everything the profile is missing and what to do.
#pragma once

#include <cstdio>

#include "waketrace/profiler.hpp"

namespace waketrace::cli {

void report_losses(std::FILE* out, const Losses& losses);

}  // namespace waketrace::cli
