// SPDX-License-Identifier: LGPL-2.1-or-later
// The C API's error channel: every exported function runs its body through
// guarded(), which turns any exception into a negative errno (or NULL plus
// errno) and keeps the message for wt_last_error(). Nothing is thrown across
// the C boundary.
#pragma once

#include <cerrno>
#include <exception>
#include <new>
#include <string>

#include "waketrace/error.hpp"

namespace waketrace::c_api {

void set_last_error(int errno_value, std::string message) noexcept;
// An Error in C terms: an option it names by its Config member is named as
// the wt_profiler_opts field, which has the same name. The installed C++
// layer reads this wording back into the Error (c_bridge::error_from in
// waketrace/c_bridge.hpp; tests/cxx_api checks the round trip).
std::string c_message(const Error& error);
void clear_last_error() noexcept;
const char* last_error_message() noexcept;

// Runs `body` (returning int >= 0); on an exception records it and returns -errno.
template <typename Body>
int guarded(Body&& body) noexcept {
    try {
        clear_last_error();
        return body();
    } catch (const Error& error) {
        set_last_error(error.errno_value(), c_message(error));
        return -error.errno_value();
    } catch (const std::bad_alloc&) {
        set_last_error(ENOMEM, "out of memory");
        return -ENOMEM;
    } catch (const std::exception& error) {
        set_last_error(EIO, error.what());
        return -EIO;
    } catch (...) {
        set_last_error(EIO, "unknown internal error");
        return -EIO;
    }
}

// The same for functions returning a pointer: NULL with errno set on failure.
template <typename Body>
auto guarded_pointer(Body&& body) noexcept -> decltype(body()) {
    decltype(body()) result = nullptr;
    const int err = guarded([&] {
        result = body();
        return 0;
    });
    if (err < 0)
        errno = -err;
    return result;
}

}  // namespace waketrace::c_api
