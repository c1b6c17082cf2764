// SPDX-License-Identifier: LGPL-2.1-or-later
//
// User stacks taken without frame pointers (--dwarf): registers and a copy of
// the stack in, code addresses out, unwound with the CFI (.eh_frame,
// .debug_frame) of the files the process mapped.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "process/process_maps.hpp"
#include "unwind/process_unwinder.hpp"
#include "unwind/stack_snapshot.hpp"

namespace waketrace::detail {

// Setting up a process (opening its files, indexing their CFI) costs far more
// than an unwind, so the set-up is kept per ProcessMaps object, identified by
// the shared_ptr (not by pid: a new maps snapshot after exec or dlopen gets a
// fresh set-up), except that a new maps object whose code mappings are those
// of a cached one (the same files at the same places: only data mappings
// changed, as when a thread or a malloc arena maps memory, or the profiler
// itself maps a file) shares that set-up. The least recently used maps
// object is dropped past `max_processes`, and one the caller released is
// dropped at the next unwind; a set-up goes with the last one using it.
//
// Thread safety: one thread at a time.
class UserStackUnwinder {
public:
    using OpenFile = OpenMappedFile;

    explicit UserStackUnwinder(OpenFile open_file, size_t max_frames = 127, size_t max_processes = 32);
    ~UserStackUnwinder();
    UserStackUnwinder(UserStackUnwinder&&) noexcept;
    UserStackUnwinder& operator=(UserStackUnwinder&&) noexcept;

    // Code addresses, innermost first: the snapshot's ip, then return
    // addresses as they are (a symbolizer looks up address - 1 for those).
    // Does not throw for unwinding failures: it returns what it got, at least
    // the ip when that is nonzero. Frames in [vdso] and in files that cannot
    // be opened end the unwind. `maps` must describe snapshot.tgid and may be
    // null (then the result is the ip alone). open_file is called here, for
    // the files of maps not seen before; exceptions from it propagate.
    std::vector<uint64_t> unwind(const std::shared_ptr<const ProcessMaps>& maps,
                                 const StackSnapshot& snapshot);

    // ProcessUnwinder::stack_end_found() of the last unwind(): where the
    // snapshot's thread's stack ends, or 0 when that unwind did not find out.
    uint64_t stack_end_found() const noexcept { return stack_end_found_; }
    // ProcessUnwinder::read_past_copy() of the last unwind().
    bool read_past_copy() const noexcept { return read_past_copy_; }

    // Maps objects cached (each with a set-up, possibly shared).
    size_t cached_processes() const noexcept { return processes_.size(); }

private:
    struct CachedProcess {
        // Keeps the control block alive, so a new ProcessMaps allocated where
        // a released one was is not taken for it.
        std::weak_ptr<const ProcessMaps> owner;
        const ProcessMaps* maps;
        uint32_t tgid;
        std::vector<Mapping> code;                  // what the set-up was made from (code_mappings())
        std::shared_ptr<ProcessUnwinder> unwinder;  // shared by equal code
    };

    ProcessUnwinder& unwinder_for(const std::shared_ptr<const ProcessMaps>& maps, uint32_t tgid);

    OpenFile open_file_;
    size_t max_frames_;
    size_t max_processes_;
    std::vector<CachedProcess> processes_;  // least recently used first
    uint64_t stack_end_found_ = 0;
    bool read_past_copy_ = false;
};

}  // namespace waketrace::detail
