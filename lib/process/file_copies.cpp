// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process/file_copies.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "process/private_copy.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

UniqueFd FileCopies::dup_of(const UniqueFd& copy) const {
    UniqueFd fd(::fcntl(copy.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd)
        throw Error(errno, "cannot duplicate the fd of a file copy");
    return fd;
}

UniqueFd FileCopies::copy_of(int original, const std::string& name) {
    struct stat status {};
    if (::fstat(original, &status) != 0)
        throw Error(errno, fmt::format("cannot stat {}", name));
    const Key key{status.st_dev, status.st_ino, status.st_size, status.st_ctim.tv_sec,
                  status.st_ctim.tv_nsec};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto found = copies_.find(key);
        if (found != copies_.end()) {
            found->second.used_in = generation_;
            return dup_of(found->second.fd);
        }
    }
    UniqueFd copy = private_copy(original, name);
    std::lock_guard<std::mutex> lock(mutex_);
    // Another thread may have copied the same file meanwhile: keep the first.
    auto [entry, inserted] = copies_.try_emplace(key, Copy{std::move(copy), generation_});
    entry->second.used_in = generation_;
    return dup_of(entry->second.fd);
}

size_t FileCopies::next_generation(uint64_t kept_generations) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    size_t forgotten = 0;
    for (auto it = copies_.begin(); it != copies_.end();) {
        if (it->second.used_in + kept_generations < generation_) {
            it = copies_.erase(it);
            ++forgotten;
        } else {
            ++it;
        }
    }
    return forgotten;
}

size_t FileCopies::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return copies_.size();
}

}  // namespace waketrace::detail
