// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The live tests' usual run: a profiler engine around one workload.
#pragma once

#include "profiler_engine.hpp"

namespace waketrace::test {

// Runs an engine with `config` around `workload` and returns the results.
template <typename Workload>
Profile profile_while(Config config, Workload& workload) {
    detail::ProfilerEngine engine(std::move(config));
    engine.start();
    workload.run();
    engine.stop();
    return engine.results();
}

}  // namespace waketrace::test
