// SPDX-License-Identifier: LGPL-2.1-or-later
// What the C API's opaque wt_profiler handle holds, for the files that
// export its functions (c_api.cpp, events.cpp).
#pragma once

#include <memory>

#include "last_error.hpp"
#include "profiler_engine.hpp"
#include "waketrace/config.hpp"
#include "waketrace/waketrace.h"

struct wt_profiler {
    waketrace::Config config;
    // Made at start, from the config as it is then; kept after stop so its
    // results stay readable.
    std::unique_ptr<waketrace::detail::ProfilerEngine> engine;
};

namespace waketrace::c_api {

// The engine of a handle that was started; throws Error (EINVAL) otherwise.
inline detail::ProfilerEngine& started(wt_profiler* handle) {
    if (!handle)
        throw Error(EINVAL, "profiler is NULL");
    if (!handle->engine)
        throw Error(EINVAL, "the profiler was never started");
    return *handle->engine;
}

}  // namespace waketrace::c_api
