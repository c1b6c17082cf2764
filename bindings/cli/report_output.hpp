// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Where the report goes: standard output, or the file of `-o FILE`.
//
// A regular file (or a path that does not exist yet) is written under a
// temporary name in its own directory and renamed over FILE only once every
// byte is written and synced, so a run that fails -- at start, mid-way, or on
// a full disk -- leaves an existing FILE as it was and no half report. Anything
// else (a device such as /dev/null, a FIFO) is written in place.
//
// Every write, sync and close is checked: a failure throws OutputError naming
// the file and the errno text, so the command can exit 1 instead of 0 with a
// report cut short.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace waketrace::cli {

struct OutputError : std::runtime_error {
    using runtime_error::runtime_error;
};

class ReportOutput {
public:
    // "" is standard output. Opens (or creates the temporary file) now, so a
    // directory that cannot be written to fails before any tracing.
    explicit ReportOutput(const std::string& path);
    // Without commit(): closes and removes the temporary file; FILE is untouched.
    ~ReportOutput();
    ReportOutput(const ReportOutput&) = delete;
    ReportOutput& operator=(const ReportOutput&) = delete;

    void write(std::string_view text);
    // Everything is written: sync, close, and move the file into place.
    void commit();

private:
    [[noreturn]] void fail(int errno_value) const;
    void open_temporary(const std::string& target);
    void discard() noexcept;

    std::string shown_name_;       // the path as given, or "standard output"
    std::string target_;           // what the temporary file becomes; empty: written in place
    std::string named_temporary_;  // mkstemp fallback's name; empty with O_TMPFILE
    int fd_ = -1;
    bool owns_fd_ = false;
};

}  // namespace waketrace::cli
