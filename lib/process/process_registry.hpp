// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every process the profiler has met, as it was when met: its maps and the
// executable files they pin (process_snapshot.hpp), so that its frames can
// be named after it exits or its binary is replaced. One snapshot per
// process, replaced on exec. The unwinder (--dwarf copies know the image
// they were taken in) and the symbolizer both read it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "process/file_copies.hpp"
#include "process/pinned_files.hpp"
#include "process/process_maps.hpp"
#include "process/process_snapshot.hpp"
#include "process/unreadable_files.hpp"
#include "support/unique_fd.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

// What is remembered of one process: the same object until the process is
// remembered again (on exec), so callers may cache per image. Never null.
using ProcessImage = std::shared_ptr<const ProcessSnapshot>;

class ProcessRegistry {
public:
    // Files and processes that cannot be read are reported to `unreadable`,
    // which must outlive the registry.
    explicit ProcessRegistry(UnreadableFiles& unreadable) : unreadable_(unreadable) {}
    ProcessRegistry(const ProcessRegistry&) = delete;
    ProcessRegistry& operator=(const ProcessRegistry&) = delete;

    // Snapshots /proc/TGID/maps now and keeps the process's executable files
    // open. Calling again (on exec) refreshes the snapshot. Silently does
    // nothing when the maps cannot be read (process gone, no access); a lack
    // of fds is reported. Thread-safe.
    void remember(uint32_t tgid);

    // The snapshot of `tgid`, taken now if it was never remembered (a failure
    // is remembered as empty maps, so it is not tried again). Thread-safe.
    ProcessImage image(uint32_t tgid);

    // A new fd of the private copy (private_copy.hpp) of the file behind
    // `mapping` of `process`: copied from the fd pinned when the process was
    // remembered, or opened now; one copy per file, shared with every other
    // reader, and safe to mmap whatever the process does to the file.
    // Invalid when the file cannot be opened or copied: `error` says why (an
    // errno value), and the failure is reported. Thread-safe.
    UniqueFd open_copy(const ProcessSnapshot& process, const Mapping& mapping, int& error);
    UniqueFd open_copy(uint32_t tgid, const Mapping& mapping);

    // Runs: a Profiler starting again takes new snapshots of the processes it
    // meets, so the old ones (of processes long gone, or met once as a
    // waker) need not be kept for ever. begin_run() is called before the new
    // run remembers anything; once it is certain (attached),
    // forget_runs_before() drops every snapshot no call since stored, and
    // returns their tgids. Snapshots still held elsewhere live on there.
    uint64_t begin_run();
    std::vector<uint32_t> forget_runs_before(uint64_t run);

    // Exited processes (a profiler drained for ever meets an endless
    // stream of them): exited() lists those stored whose process is gone
    // (no such tgid; a zombie still counts as running). Once no record
    // still to be read names them, forget() drops their snapshots, and with
    // them their pinned files -- unless the tgid was remembered again
    // meanwhile (a new process under a reused tgid). Thread-safe.
    struct Exited {
        uint32_t tgid;
        ProcessImage image;  // the snapshot found exited
    };
    std::vector<Exited> exited();
    void forget(const std::vector<Exited>& processes);
    // Visits every stored snapshot, outside the lock. Thread-safe.
    void for_each_image(const std::function<void(const ProcessSnapshot&)>& visit);

    size_t size();  // processes with a snapshot, for tests and stats
    // Distinct files pinned, and private copies kept: for tests and stats.
    size_t pinned_files() const { return pinned_files_.open_count(); }
    size_t file_copies() const { return copies_.size(); }
    // Private copies: ends a generation and forgets those not handed out
    // in the last `kept_generations` (FileCopies::next_generation()).
    size_t forget_unused_copies(uint64_t kept_generations) {
        return copies_.next_generation(kept_generations);
    }

private:
    void store(ProcessSnapshot snapshot);
    void report_failure(uint32_t tgid, const Error& error);

    UnreadableFiles& unreadable_;
    // One fd per distinct executable file, shared by every snapshot.
    PinnedFiles pinned_files_;
    // What is read of those files: private copies, one per file.
    FileCopies copies_;
    // Held only to look up or replace a snapshot, never during file I/O.
    std::mutex mutex_;
    struct Stored {
        ProcessImage snapshot;
        uint64_t run = 0;  // the begin_run() it was stored in
    };
    std::unordered_map<uint32_t, Stored> processes_;
    uint64_t run_ = 0;
};

}  // namespace waketrace::detail
