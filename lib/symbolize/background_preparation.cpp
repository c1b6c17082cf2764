// SPDX-License-Identifier: LGPL-2.1-or-later
#include "symbolize/background_preparation.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include "symbolize/symbolizer.hpp"

namespace waketrace::detail {

BackgroundPreparation::BackgroundPreparation(Symbolizer& symbolizer, std::vector<uint32_t> tgids,
                                             std::function<void(uint32_t tid)> on_start)
    : thread_([this, &symbolizer, tgids = std::move(tgids), on_start = std::move(on_start)] {
          if (on_start)
              on_start(uint32_t(gettid()));
          // Linux's nice is per thread; raising one's own needs no privilege.
          // Failing, it runs at the normal priority, which is fine too.
          (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
          symbolizer.prepare(tgids, cancelled_);
      }) {}

BackgroundPreparation::~BackgroundPreparation() {
    cancelled_.store(true, std::memory_order_relaxed);
    thread_.join();
}

}  // namespace waketrace::detail
