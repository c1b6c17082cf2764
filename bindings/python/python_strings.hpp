// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Text from the kernel and from ELF files (comms, symbols, paths) is bytes,
// not necessarily UTF-8: a thread may name itself anything. It reaches Python
// the way os.fsdecode() would bring it, so reading a field never raises.
#pragma once

#include <pybind11/pybind11.h>

#include <string_view>

namespace waketrace::python {

// UTF-8 with undecodable bytes kept as lone surrogates ("surrogateescape").
pybind11::str os_string(std::string_view bytes);

}  // namespace waketrace::python
