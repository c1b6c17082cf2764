// A C++ Profile <-> the C API's wt_profile. The C form is one malloc'd block
// (structs, arrays and strings together), so one free() releases it and
// every pointer inside borrows from it.
#pragma once

#include "waketrace/profiler.hpp"
#include "waketrace/waketrace.h"

namespace waketrace::c_api {

// Throws std::bad_alloc.
wt_profile* pack_profile(const Profile& profile);
// Back to C++, for the formatters.
Profile unpack_profile(const wt_profile& profile);

}  // namespace waketrace::c_api
