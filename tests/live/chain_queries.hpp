// SPDX-License-Identifier: LGPL-2.1-or-later
// Questions tests ask of a Profile.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "waketrace/config.hpp"
#include "waketrace/profile.hpp"

namespace waketrace::test {

bool has_frame(const Stack& stack, std::string_view symbol_part);
std::vector<const WakeChain*> chains_of_target(const Profile& profile, uint32_t tid);
uint64_t sum_blocked_ns(const std::vector<const WakeChain*>& chains);
// Blocking off-CPU periods (not preemptions) of `tid` whose kernel stack has
// a frame containing `symbol_part`.
uint64_t count_blocked_in(const Profile& profile, uint32_t tid, std::string_view symbol_part);
// Every loss counter by name, for failure messages.
std::string describe(const Losses& losses);
// Every loss but missed_switch_ins: switches the host's kernel did not
// report (README, "What is counted") can end any period, whatever the test.
uint64_t losses_on_our_side(const Losses& losses);
// "" when `seen` periods account for a workload's `rounds` waits: every one,
// but for periods whose end the host did not report (missed_switch_ins), and
// never more; otherwise what is off, for CHECK(... == "") to print.
std::string unaccounted_rounds(uint64_t seen, uint64_t rounds, const Losses& losses);
// `tid`'s chains a line each (count, waker context and tid, kernel stack
// top), for failure messages.
std::string describe_chains(const Profile& profile, uint32_t tid);
// One chain's wakers, a line each (context, tid/comm, overlap, top of the
// waking and blocked kernel stacks), then how it ends: for failure messages.
std::string describe_hops(const WakeChain& chain);
// Every waker level lost to the chain maps (chain_states_full, hop_map_full,
// hop_collisions): what may end a chain early as ChainEnd::waker_lost.
uint64_t chain_level_losses(const Losses& losses);
}  // namespace waketrace::test
