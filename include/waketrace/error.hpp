// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libwaketrace C++ API: its one exception type. Shared by the library's
// internals and the installed header-only layer (waketrace/profiler.hpp),
// which rebuilds it from the C ABI's errno and message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace waketrace {

// An option the caller can set to learn more or to get past an error, named
// by its Config member so that each binding can say it in its caller's terms
// (Config::log, the command line's -v, Python's log=).
struct Hint {
    std::string option;   // a Config member: "log"
    std::string purpose;  // what setting it gives: "to see the verifier log"
};

// Every failure is a waketrace::Error: code() carries the errno value
// (std::generic_category()), what() says what went wrong and what to do, in
// C++ terms ("... (set Config::log to see the verifier log): <errno text>").
// Bindings compose their own text from message() and hint().
class Error : public std::system_error {
public:
    Error(int errno_value, const std::string& message)
        : std::system_error(errno_value, std::generic_category(), message),
          details_(std::make_shared<const Details>(Details{message, std::nullopt})) {}
    Error(int errno_value, const std::string& message, Hint hint)
        : std::system_error(errno_value, std::generic_category(),
                            message + " (set Config::" + hint.option + " " + hint.purpose + ")"),
          details_(std::make_shared<const Details>(Details{message, std::move(hint)})) {}
    int errno_value() const noexcept { return code().value(); }
    // What went wrong, without the hint and without the errno text.
    const std::string& message() const noexcept { return details_->message; }
    const std::optional<Hint>& hint() const noexcept { return details_->hint; }

private:
    struct Details {
        std::string message;
        std::optional<Hint> hint;
    };
    // Shared, so that copying an exception cannot throw.
    std::shared_ptr<const Details> details_;
};

}  // namespace waketrace
