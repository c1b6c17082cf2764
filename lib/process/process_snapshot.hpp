// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What must be taken from a process while it runs so that its user frames
// can be named after it is gone: its maps, and its executable files opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "process/pinned_files.hpp"
#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"

namespace waketrace::detail {

// Immutable once taken, and a shared pointer inside: copies and moves are
// cheap, and a copy may be used from another thread.
//
// Cost: the maps text parsed (a few KiB) plus, through PinnedFiles, one fd
// per distinct executable file, shared with every other snapshot taken from
// the same PinnedFiles. Only executable mappings are pinned: stacks never
// point anywhere else.
class ProcessSnapshot {
public:
    // Reads /proc/TGID/maps and pins the file of every executable file
    // mapping through `files`. nullopt when the process is gone. A zombie
    // (exited, not yet reaped) reads as empty maps: keep an earlier snapshot
    // over such a one. Files that cannot be pinned are left to open_file().
    // Throws waketrace::Error when the maps cannot be read for another
    // reason (e.g. EACCES: profiling other users' processes needs root).
    static std::optional<ProcessSnapshot> take(uint32_t tgid, PinnedFiles& files);
    // The same with files shared with no other snapshot.
    static std::optional<ProcessSnapshot> take(uint32_t tgid);
    // No maps, no files: what is known of a process that could not be read.
    static ProcessSnapshot empty(uint32_t tgid);

    uint32_t tgid() const noexcept { return state_->tgid; }
    const ProcessMaps& maps() const noexcept { return state_->maps; }
    // Distinct files held open by this snapshot.
    size_t pinned_count() const noexcept { return state_->files.size(); }

    // A new fd (dup) of the file behind `mapping` (one of maps()) pinned at
    // take() time; when none was pinned, open_mapped_file(tgid(), mapping)
    // now. Invalid when both fail, with errno set as open_mapped_file() sets
    // it (EMFILE or ENFILE for a shortage of fds). A dup shares its file offset with the
    // pinned fd and with every other dup: read with pread or mmap (libelf
    // does), never read/lseek.
    UniqueFd open_file(const Mapping& mapping) const;

private:
    struct State {
        uint32_t tgid = 0;
        ProcessMaps maps;
        std::vector<std::pair<FileIdentity, PinnedFiles::Pin>> files;  // sorted by identity
    };

    explicit ProcessSnapshot(std::shared_ptr<const State> state) : state_(std::move(state)) {}

    std::shared_ptr<const State> state_;  // never null
};

}  // namespace waketrace::detail
