// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/private_copy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fmt/format.h>

#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

constexpr unsigned int immutable_seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

[[noreturn]] void fail(int errno_value, const std::string& what, const std::string& name) {
    throw Error(errno_value, fmt::format("cannot copy {}: {}", name, what));
}

// The data extent at or after `offset`: [start, end), or {size, size} past
// the last one. Where SEEK_DATA is not supported the rest is one extent.
std::pair<uint64_t, uint64_t> next_data(int fd, uint64_t offset, uint64_t size) {
    off_t start = ::lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
    if (start < 0)
        return errno == ENXIO ? std::pair{size, size} : std::pair{offset, size};
    off_t end = ::lseek(fd, start, SEEK_HOLE);
    if (end < 0)
        end = static_cast<off_t>(size);
    return {std::min<uint64_t>(uint64_t(start), size), std::min<uint64_t>(uint64_t(end), size)};
}

// sendfile(2) copies page cache to the memfd inside the kernel, with no pass
// through a buffer of ours. Returns the offset reached: short of `end` when
// the file shrank or where sendfile gave up (the caller then goes on with
// pread and pwrite, which tell the two apart).
uint64_t send_range(int from, int to, uint64_t start, uint64_t end, const std::string& name) {
    if (::lseek(to, static_cast<off_t>(start), SEEK_SET) < 0)
        return start;
    off_t at = static_cast<off_t>(start);
    while (uint64_t(at) < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(end - uint64_t(at), 1 << 30));
        ssize_t sent = ::sendfile(to, from, &at, want);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EINVAL || errno == ENOSYS))
            break;
        if (sent < 0)
            fail(errno, "sendfile to the memfd failed", name);
        if (sent == 0)
            break;  // end of file: it shrank
    }
    return uint64_t(at);
}

// Copies [start, end) of `from` into `to` at the same offsets: with
// sendfile, else through a bounded buffer. Returns the offset reached, short
// of `end` when the file shrank meanwhile.
uint64_t copy_range(int from, int to, uint64_t start, uint64_t end, std::vector<char>& buffer,
                    const std::string& name) {
    uint64_t at = send_range(from, to, start, end, name);
    if (at >= end)
        return at;
    while (at < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - at));
        ssize_t got = ::pread(from, buffer.data(), want, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail(errno, "read failed", name);
        if (got == 0)
            break;
        for (size_t written = 0; written < size_t(got);) {
            ssize_t put = ::pwrite(to, buffer.data() + written, size_t(got) - written,
                                   static_cast<off_t>(at + written));
            if (put < 0 && errno == EINTR)
                continue;
            if (put < 0)
                fail(errno, "write to the memfd failed", name);
            written += size_t(put);
        }
        at += uint64_t(got);
    }
    return at;
}

}  // namespace

UniqueFd private_copy(int fd, const std::string& name, uint64_t max_bytes) {
    struct stat status {};
    if (::fstat(fd, &status) != 0)
        fail(errno, "fstat failed", name);
    if (!S_ISREG(status.st_mode))
        fail(EINVAL, "not a regular file", name);
    const uint64_t size = static_cast<uint64_t>(status.st_size);
    if (size > max_bytes)
        fail(EFBIG, fmt::format("{} bytes, above the {} byte cap on files read", size, max_bytes), name);

    UniqueFd copy(::memfd_create("waketrace-elf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!copy)
        fail(errno, "memfd_create failed", name);
    // The full size first: holes left by the loop below stay holes.
    if (::ftruncate(copy.get(), static_cast<off_t>(size)) != 0)
        fail(errno, "ftruncate of the memfd failed", name);

    std::vector<char> buffer(1 << 20);
    for (uint64_t offset = 0; offset < size;) {
        auto [start, end] = next_data(fd, offset, size);
        if (start >= end)
            break;
        uint64_t reached = copy_range(fd, copy.get(), start, end, buffer, name);
        if (reached < end) {
            // The file shrank while copied: the copy ends where its data did.
            if (::ftruncate(copy.get(), static_cast<off_t>(reached)) != 0)
                fail(errno, "ftruncate of the memfd failed", name);
            break;
        }
        offset = end;
    }
    if (::fcntl(copy.get(), F_ADD_SEALS, immutable_seals | F_SEAL_SEAL) != 0)
        fail(errno, "sealing the memfd failed", name);
    return copy;
}

bool is_private_copy(int fd) {
    int seals = ::fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (static_cast<unsigned int>(seals) & immutable_seals) == immutable_seals;
}

UniqueFd ensure_private_copy(UniqueFd fd, const std::string& name, uint64_t max_bytes) {
    if (is_private_copy(fd.get()))
        return fd;
    return private_copy(fd.get(), name, max_bytes);
}

bool has_contents(int copy, std::string_view bytes) {
    struct stat status {};
    if (::fstat(copy, &status) != 0 || uint64_t(status.st_size) != bytes.size())
        return false;
    std::vector<char> buffer(1 << 16);
    for (size_t at = 0; at < bytes.size();) {
        ssize_t got =
            ::pread(copy, buffer.data(), std::min(buffer.size(), bytes.size() - at), static_cast<off_t>(at));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || bytes.compare(at, size_t(got), buffer.data(), size_t(got)) != 0)
            return false;
        at += size_t(got);
    }
    return true;
}

Elf_Cmd safe_elf_read_command(int fd) { return is_private_copy(fd) ? ELF_C_READ_MMAP : ELF_C_READ; }

}  // namespace waketrace::detail
