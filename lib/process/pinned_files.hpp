// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Mapped files held open while their processes run, one fd per file however
// many processes map it, so the files can be read after the processes (and
// the paths that named them) are gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"

namespace waketrace::detail {

// Which file a mapping is, as /proc/PID/maps names it. While any fd of the
// file is open its inode cannot be freed, so the number is not reused and the
// identity stays unambiguous for as long as a pin holds it.
struct FileIdentity {
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    uint64_t inode = 0;

    static FileIdentity of(const Mapping& mapping) noexcept {
        return {mapping.dev_major, mapping.dev_minor, mapping.inode};
    }
    bool operator<(const FileIdentity& other) const noexcept;
    bool operator==(const FileIdentity& other) const noexcept;
};

// Cost: one fd per distinct file pinned at the same moment (every live Pin
// of a file shares it), counted against RLIMIT_NOFILE like every other fd
// of the process. The profiler's host application and libbpf need fds too,
// so pinning stops at a cap instead of raising the limit behind the caller's
// back; what is not pinned is opened at report time as before.
class PinnedFiles {
public:
    using Pin = std::shared_ptr<const UniqueFd>;

    explicit PinnedFiles(size_t max_open = default_max_open());
    PinnedFiles(const PinnedFiles&) = delete;
    PinnedFiles& operator=(const PinnedFiles&) = delete;

    // Half the soft RLIMIT_NOFILE: room for the host application, and for
    // the fds the report itself opens.
    static size_t default_max_open();

    // The file behind `mapping` of the running process `tgid`: the fd of an
    // earlier pin of the same file, or one opened now by open_mapped_file().
    // The fd lives as long as any Pin of it, not as long as this object.
    // nullptr when it cannot be opened, when the only way in was a path that
    // now names another file (the inode differs), or when `max_open` files
    // are already held. Thread-safe; the open happens without the lock held.
    Pin pin(uint32_t tgid, const Mapping& mapping);

    // Files currently held open by some Pin.
    size_t open_count() const;

private:
    Pin find_live(const FileIdentity& identity) const;
    size_t live_count() const;  // open_count() with mutex_ held
    void forget_released();

    size_t max_open_;
    mutable std::mutex mutex_;
    // Entries whose pins are all gone linger until forget_released().
    std::map<FileIdentity, std::weak_ptr<const UniqueFd>> pins_;
    size_t sweep_at_ = 64;  // pins_.size() that triggers the next sweep
};

}  // namespace waketrace::detail
