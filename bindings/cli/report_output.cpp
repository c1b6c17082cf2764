// SPDX-License-Identifier: LGPL-2.1-or-later
#include "report_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace waketrace::cli {
namespace {

std::string directory_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The file a rename must replace: a symlink's target, so the link survives.
std::string resolved(const std::string& path) {
    char buffer[PATH_MAX];
    return realpath(path.c_str(), buffer) ? std::string(buffer) : path;
}

// A hidden sibling of `target` that no one else is likely to pick.
std::string temporary_name_for(const std::string& target) {
    static std::mt19937_64 random{std::random_device{}()};
    return fmt::format("{}/.{}.{:016x}.tmp", directory_of(target), base_name_of(target), random());
}

// The mode a new file gets from open(0666) under the process's umask.
mode_t default_file_mode() {
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

}  // namespace

ReportOutput::ReportOutput(const std::string& path) : shown_name_(path.empty() ? "standard output" : path) {
    if (path.empty()) {
        fd_ = STDOUT_FILENO;
        return;
    }
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        // A device or a FIFO: there is no file to keep intact, and renaming
        // over /dev/null would replace the device.
        fd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd_ < 0)
            fail(errno);
        owns_fd_ = true;
        return;
    }
    try {
        open_temporary(resolved(path));
    } catch (...) {
        discard();  // no destructor runs for a constructor that throws
        throw;
    }
}

void ReportOutput::open_temporary(const std::string& target) {
    target_ = target;
    // A rename may replace a file its writer could not open: keep open()'s
    // rule, so a read-only FILE stays as refused as before.
    if (faccessat(AT_FDCWD, target.c_str(), W_OK, AT_EACCESS) != 0 && errno != ENOENT)
        fail(errno);
    // O_TMPFILE: a file with no name until commit() links it, so even a
    // killed run leaves nothing behind.
    fd_ = open(directory_of(target).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // A filesystem (or kernel) without O_TMPFILE: a named temporary.
        std::string name = temporary_name_for(target);
        fd_ = open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (fd_ >= 0)
            named_temporary_ = std::move(name);
    }
    if (fd_ < 0)
        fail(errno);
    owns_fd_ = true;
    // The report replaces FILE: keep the mode and owner it had.
    struct stat existing {};
    if (stat(target.c_str(), &existing) == 0) {
        if (fchmod(fd_, existing.st_mode & 07777) != 0 ||
            (fchown(fd_, existing.st_uid, existing.st_gid) != 0 && errno != EPERM))
            fail(errno);
    } else if (named_temporary_.empty() && fchmod(fd_, default_file_mode()) != 0) {
        fail(errno);
    }
}

ReportOutput::~ReportOutput() { discard(); }

void ReportOutput::discard() noexcept {
    if (owns_fd_ && fd_ >= 0)
        close(fd_);
    fd_ = -1;
    owns_fd_ = false;
    if (!named_temporary_.empty())
        unlink(named_temporary_.c_str());
    named_temporary_.clear();
}

void ReportOutput::fail(int errno_value) const {
    throw OutputError(fmt::format("cannot write {}: {}", shown_name_, std::strerror(errno_value)));
}

void ReportOutput::write(std::string_view text) {
    if (fd_ < 0)
        throw OutputError(fmt::format("cannot write {}: already closed", shown_name_));
    while (!text.empty()) {
        const ssize_t written = ::write(fd_, text.data(), text.size());
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            fail(errno);
        text.remove_prefix(size_t(written));
    }
}

void ReportOutput::commit() {
    if (!owns_fd_)
        return;  // standard output: every write went straight to it
    // Errors a filesystem reports only late (NFS, a full thin pool) come
    // from fsync or close: a report is not written until both succeed.
    if (!target_.empty() && fsync(fd_) != 0)
        fail(errno);
    if (target_.empty()) {
        const int fd = fd_;
        fd_ = -1;
        owns_fd_ = false;
        if (close(fd) != 0)
            fail(errno);
        return;
    }
    std::string name = named_temporary_;
    if (name.empty()) {
        // The unnamed file gets a temporary name (linkat cannot replace a
        // file), which the rename then moves over FILE at once.
        name = temporary_name_for(target_);
        const std::string self = fmt::format("/proc/self/fd/{}", fd_);
        if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) != 0)
            fail(errno);
        named_temporary_ = name;
    }
    const int fd = fd_;
    fd_ = -1;
    owns_fd_ = false;
    if (close(fd) != 0)
        fail(errno);  // the destructor removes the temporary name
    if (rename(name.c_str(), target_.c_str()) != 0)
        fail(errno);
    named_temporary_.clear();
}

}  // namespace waketrace::cli
