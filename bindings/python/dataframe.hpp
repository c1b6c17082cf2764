// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Profile.to_dataframe(): one pandas row per chain, for sorting and
// filtering in a notebook. pandas is imported only here, when asked for.
#pragma once

#include <pybind11/pybind11.h>

#include <waketrace/profile.hpp>

namespace waketrace::python {

// Columns: target_comm, target_tid, target_pid, waker, waker_tid,
// waker_context, total_us, blocked_us, runqueue_us, max_us, count, then
// target_kernel_stack, target_user_stack, waker_kernel_stack,
// waker_user_stack as ";"-joined frame names, leaf first. The waker columns
// describe wakers[0]. Raises ImportError saying how to install pandas.
pybind11::object profile_to_dataframe(const Profile& profile);

}  // namespace waketrace::python
