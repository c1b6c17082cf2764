// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/pinned_files.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <tuple>

#include "process/mapped_file.hpp"

namespace waketrace::detail {

namespace {

// open_mapped_file() falls back to the mapping's path when
// /proc/PID/map_files is closed to us; a replaced file then answers under
// the old name. While the process runs its inode number cannot be taken by
// another file of that filesystem, so comparing it tells the two apart. The
// device is not compared: on overlayfs stat() and the maps may disagree
// about it (lower layer's device against the overlay's).
bool is_mapped_inode(const UniqueFd& fd, const Mapping& mapping) {
    struct stat status {};
    return ::fstat(fd.get(), &status) == 0 && S_ISREG(status.st_mode) &&
           static_cast<uint64_t>(status.st_ino) == mapping.inode;
}

}  // namespace

bool FileIdentity::operator<(const FileIdentity& other) const noexcept {
    return std::tie(dev_major, dev_minor, inode) < std::tie(other.dev_major, other.dev_minor, other.inode);
}

bool FileIdentity::operator==(const FileIdentity& other) const noexcept {
    return dev_major == other.dev_major && dev_minor == other.dev_minor && inode == other.inode;
}

PinnedFiles::PinnedFiles(size_t max_open) : max_open_(max_open) {}

size_t PinnedFiles::default_max_open() {
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return 512;
    return static_cast<size_t>(limit.rlim_cur / 2);
}

PinnedFiles::Pin PinnedFiles::pin(uint32_t tgid, const Mapping& mapping) {
    FileIdentity identity = FileIdentity::of(mapping);
    if (identity.inode == 0 || !mapping.is_file())
        return nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (Pin existing = find_live(identity))
            return existing;
        if (pins_.size() >= max_open_ && live_count() >= max_open_)
            return nullptr;
    }

    UniqueFd fd = open_mapped_file(tgid, mapping);
    if (!fd || !is_mapped_inode(fd, mapping))
        return nullptr;
    auto opened = std::make_shared<const UniqueFd>(std::move(fd));

    std::lock_guard<std::mutex> lock(mutex_);
    // Another thread may have pinned the same file meanwhile: share its fd,
    // and let ours close.
    if (Pin existing = find_live(identity))
        return existing;
    if (pins_.size() >= max_open_ && live_count() >= max_open_)
        return nullptr;
    if (pins_.size() >= sweep_at_)
        forget_released();
    pins_[identity] = opened;
    return opened;
}

size_t PinnedFiles::open_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_count();
}

size_t PinnedFiles::live_count() const {
    return static_cast<size_t>(
        std::count_if(pins_.begin(), pins_.end(), [](const auto& entry) { return !entry.second.expired(); }));
}

PinnedFiles::Pin PinnedFiles::find_live(const FileIdentity& identity) const {
    auto found = pins_.find(identity);
    return found == pins_.end() ? nullptr : found->second.lock();
}

// Amortised: sweeping when the table has doubled since the last sweep keeps
// the cost per pin() constant and the table at most twice the live files.
void PinnedFiles::forget_released() {
    for (auto entry = pins_.begin(); entry != pins_.end();)
        entry = entry->second.expired() ? pins_.erase(entry) : std::next(entry);
    sweep_at_ = std::max<size_t>(64, 2 * pins_.size());
}

}  // namespace waketrace::detail
