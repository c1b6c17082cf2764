// SPDX-License-Identifier: LGPL-2.1-or-later
//
// One private copy (private_copy.hpp) per file, shared by everything that
// reads the file: the symbolizer's parse and every process's unwinder map the
// same memfd, so its pages are in memory once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "support/unique_fd.hpp"

namespace waketrace::detail {

class FileCopies {
public:
    FileCopies() = default;
    FileCopies(const FileCopies&) = delete;
    FileCopies& operator=(const FileCopies&) = delete;

    // A new fd of the private copy of the file open as `original`, copied
    // now unless a copy of the same file (device, inode, size and ctime: a
    // write, or a forged mtime, changes the ctime) is held already. `name`
    // labels errors. Throws private_copy()'s waketrace::Error (EFBIG above
    // the cap, EMFILE when no fd is left). Thread-safe; copies without the
    // lock held. Copies are kept, one fd each, until next_generation()
    // finds them unused.
    UniqueFd copy_of(int original, const std::string& name);

    // Ends a generation (the profiler's: the time between two drains) and
    // forgets the copies copy_of() handed out in none of the last
    // `kept_generations` (the one ending included); returns how many. A copy still read
    // (an fd of it open in a parse or an unwinder) stays in memory until
    // that fd closes; a file asked for again is copied again, from its
    // bytes then (the key changes with any write, so they are the same).
    size_t next_generation(uint64_t kept_generations);

    size_t size() const;

private:
    using Key = std::tuple<dev_t, ino_t, off_t, int64_t, int64_t>;
    struct Copy {
        UniqueFd fd;
        uint64_t used_in = 0;  // the generation it was last handed out in
    };
    UniqueFd dup_of(const UniqueFd& copy) const;

    mutable std::mutex mutex_;
    std::map<Key, Copy> copies_;
    uint64_t generation_ = 0;
};

}  // namespace waketrace::detail
