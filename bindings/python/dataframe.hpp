// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profile.to_dataframe(): one pandas row per chain, for sorting and
// filtering in a notebook. pandas is imported only here, when asked for.
//
// One row per chain, not per waker level, also with chain_depth > 1: each
// period is counted once, in its chain, so sums of total_us / blocked_us over
// any selection of rows stay true; a row per hop would count a period once
// per level. The levels show as depth, end and waker_path, and per level
// through WakeChain.wakers.
#pragma once

#include <pybind11/pybind11.h>

#include <waketrace/profile.hpp>

namespace waketrace::python {

// Columns: target_comm, target_tid, target_pid, waker, waker_tid,
// waker_context, total_us, blocked_us, runqueue_us, max_us, count, then
// target_kernel_stack, target_user_stack, waker_kernel_stack,
// waker_user_stack as ";"-joined frame names, leaf first, then depth (the
// number of waker levels), end (WakeChain.end) and waker_path (waker_path():
// "comm-tid <- comm-tid ...", nearest first). The other waker columns
// describe wakers[0]. Raises ImportError saying how to install pandas.
pybind11::object profile_to_dataframe(const Profile& profile);

// Profile::threads, one row per thread in their order: tid, pid, comm,
// total_us, blocked_us, runqueue_us, max_us, count.
pybind11::object threads_to_dataframe(const Profile& profile);

}  // namespace waketrace::python
