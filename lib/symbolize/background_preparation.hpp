// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Loads the symbol tables a report will need on a thread of its own while
// the profiler traces, so that naming frames after stop() does not start
// from nothing: reading /proc/kallsyms and inflating a library's DWARF were
// most of the time from stop to report.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "support/left_out_thread.hpp"

namespace waketrace::detail {

class Symbolizer;

class BackgroundPreparation {
public:
    // Starts Symbolizer::prepare(tgids) at a low priority (nice +10): it
    // takes CPU time the traced threads do not want first.
    // `on_start` is called first on the new thread with its tid, before the
    // constructor returns.
    BackgroundPreparation(Symbolizer& symbolizer, std::vector<uint32_t> tgids,
                          std::function<void(uint32_t tid)> on_start = {});
    // Cancels what is left (it is loaded when first needed) and joins.
    ~BackgroundPreparation();
    BackgroundPreparation(const BackgroundPreparation&) = delete;
    BackgroundPreparation& operator=(const BackgroundPreparation&) = delete;

private:
    std::atomic<bool> cancelled_{false};
    LibraryThread thread_;
};

}  // namespace waketrace::detail
