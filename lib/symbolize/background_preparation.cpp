// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/background_preparation.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include "support/left_out_thread.hpp"
#include "symbolize/symbolizer.hpp"

namespace waketrace::detail {

BackgroundPreparation::BackgroundPreparation(Symbolizer& symbolizer, std::vector<uint32_t> tgids,
                                             std::function<void(uint32_t tid)> on_start)
    : thread_(start_left_out_thread(std::move(on_start), [this, &symbolizer, tgids = std::move(tgids)] {
          // Linux's nice is per thread; raising one's own needs no privilege.
          // Failing, it runs at the normal priority, which is fine too.
          (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
          symbolizer.prepare(tgids, cancelled_);
      })) {}

BackgroundPreparation::~BackgroundPreparation() {
    cancelled_.store(true, std::memory_order_relaxed);
    thread_.join();
}

}  // namespace waketrace::detail
