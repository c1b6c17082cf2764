// SPDX-License-Identifier: LGPL-2.1-or-later
// wt_profiler_opts -> waketrace::Config, with the ABI rules for sized
// structs: a smaller (older) struct is accepted, bytes this library does not
// know must be zero.
#pragma once

#include "waketrace/config.hpp"
#include "waketrace/error.hpp"
#include "waketrace/waketrace.h"

namespace waketrace::c_api {

// Throws Error(EINVAL) saying which field is wrong.
Config config_from(const wt_profiler_opts* opts);

}  // namespace waketrace::c_api
