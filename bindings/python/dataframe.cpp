// SPDX-License-Identifier: LGPL-2.1-or-later
#include "dataframe.hpp"

#include <limits>
#include <string>

#include "format/format.hpp"

#include "option_names.hpp"
#include "python_strings.hpp"

namespace py = pybind11;

namespace waketrace::python {
namespace {

py::module_ import_pandas(const char* caller) {
    try {
        return py::module_::import("pandas");
    } catch (py::error_already_set& error) {
        if (!error.matches(PyExc_ImportError))
            throw;
        py::raise_from(
            error, PyExc_ImportError,
            (std::string(caller) +
             " needs pandas: install it (Debian: apt install python3-pandas; elsewhere: pip install "
             "pandas)")
                .c_str());
        throw py::error_already_set();
    }
}

py::str joined_frame_names(const Stack& stack) {
    std::string joined;
    for (const Frame& frame : stack.frames)
        joined += (joined.empty() ? "" : ";") + frame_name(frame);
    return os_string(joined);
}

double microseconds(uint64_t ns) { return double(ns) / 1000.0; }

// NaN for a chain without histograms, so the column stays numeric.
double quantile(const WakeChain& chain, double fraction, bool runqueue) {
    return chain_quantile_us(chain, fraction, runqueue).value_or(std::numeric_limits<double>::quiet_NaN());
}

py::tuple chain_row(const WakeChain& chain) {
    static const Waker no_waker{};
    const bool has_waker = !chain.wakers.empty();
    const Waker& waker = has_waker ? chain.wakers[0] : no_waker;
    return py::make_tuple(
        py::str(thread_name(chain.target.comm)), chain.target.tid, chain.target.tgid,
        has_waker ? os_string(waker_name(waker)) : py::str(""), waker.task.tid,
        has_waker ? to_string(waker.context) : std::string_view(), microseconds(chain.total_ns),
        microseconds(chain.blocked_ns), microseconds(chain.runqueue_ns), microseconds(chain.max_ns),
        chain.count, joined_frame_names(chain.kernel_stack), joined_frame_names(chain.user_stack),
        joined_frame_names(waker.kernel_stack), joined_frame_names(waker.user_stack), chain.wakers.size(),
        chain_end_name(chain.end), os_string(waker_path(chain)), quantile(chain, 0.5, false),
        quantile(chain, 0.9, false), quantile(chain, 0.99, false), quantile(chain, 0.5, true),
        quantile(chain, 0.9, true), quantile(chain, 0.99, true), quantile(chain, 1.0, true));
}

}  // namespace

py::object profile_to_dataframe(const Profile& profile) {
    py::module_ pandas = import_pandas("Profile.to_dataframe()");
    py::list columns;
    for (const char* name :
         {"target_comm", "target_tid", "target_pid", "waker", "waker_tid", "waker_context", "total_us",
          "blocked_us", "runqueue_us", "max_us", "count", "target_kernel_stack", "target_user_stack",
          "waker_kernel_stack", "waker_user_stack", "depth", "end", "waker_path",
          // Estimates from the histograms (histograms=True; NaN without):
          // WakeChain.percentile_us().
          "p50_us", "p90_us", "p99_us", "runqueue_p50_us", "runqueue_p90_us", "runqueue_p99_us",
          "runqueue_max_us"})
        columns.append(name);
    py::list rows;
    for (const WakeChain& chain : profile.chains)
        rows.append(chain_row(chain));
    return pandas.attr("DataFrame")(rows, py::arg("columns") = columns);
}

py::object threads_to_dataframe(const Profile& profile) {
    py::module_ pandas = import_pandas("Profile.threads_to_dataframe()");
    py::list columns;
    for (const char* name :
         {"tid", "pid", "comm", "total_us", "blocked_us", "runqueue_us", "max_us", "count"})
        columns.append(name);
    py::list rows;
    for (const ThreadTotal& thread : profile.threads)
        rows.append(py::make_tuple(thread.task.tid, thread.task.tgid, py::str(thread_name(thread.task.comm)),
                                   microseconds(thread.total_ns), microseconds(thread.blocked_ns),
                                   microseconds(thread.runqueue_ns), microseconds(thread.max_ns),
                                   thread.count));
    return pandas.attr("DataFrame")(rows, py::arg("columns") = columns);
}

}  // namespace waketrace::python
