// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libdwfl's unwinder set up for one process: its code files reported at their
// load addresses, and a "thread" whose registers and stack come from the
// snapshot being unwound.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "process/process_maps.hpp"
#include "support/unique_fd.hpp"
#include "unwind/stack_snapshot.hpp"
#include "unwind/unwind_memo.hpp"

namespace waketrace::detail {

// Opens the file behind a mapping of process `tgid`, or returns an invalid fd.
// open_mapped_file (symbolize/mapped_file.hpp) fits; a caller that pinned the
// files of processes that may exit hands in its own. Files are read from a
// private copy (private_copy.hpp), made here unless the fd is one already
// (Symbolizer::open_file shares one copy per file between processes).
using OpenMappedFile = std::function<UniqueFd(uint32_t tgid, const Mapping& mapping)>;

class ProcessUnwinder {
public:
    // Opens and reports every executable file mapping of `maps`. Files that
    // cannot be opened or copied, or are not ELF, are left out (frames in
    // them end the unwind), as is [vdso], which has no file. Throws waketrace::Error
    // (ENOMEM) only when libdwfl cannot start.
    ProcessUnwinder(const ProcessMaps& maps, uint32_t tgid, const OpenMappedFile& open_file);
    ~ProcessUnwinder();
    // libdwfl keeps `this` for its callbacks: the object stays where it is.
    ProcessUnwinder(const ProcessUnwinder&) = delete;
    ProcessUnwinder& operator=(const ProcessUnwinder&) = delete;

    // Code addresses, innermost first: the snapshot's ip, then return
    // addresses, at most max_frames (>= 1). Never fails: an unwind that
    // cannot go on returns what it found, at least a nonzero ip. A snapshot
    // an earlier unwind would repeat exactly (UnwindMemo) gets its answer
    // without unwinding.
    std::vector<uint64_t> unwind(const StackSnapshot& snapshot, size_t max_frames);
    // One past the highest stack word the last unwind() read, when libdwfl
    // unwound it and reached the thread's outermost frame (its start, whose
    // CFI ends the chain) with every read inside the copy; 0 otherwise.
    // Every unwind of that thread reads below it, however deep its stack,
    // so copies can stop there.
    uint64_t stack_end_found() const noexcept { return stack_end_found_; }
    // Whether the last unwind() by libdwfl tried to read past the end of
    // the copy: a longer copy might have given more frames.
    bool read_past_copy() const noexcept { return read_past_copy_; }

    // Unwinds answered from the memo, and done, so far.
    uint64_t remembered_unwinds() const noexcept { return remembered_unwinds_; }
    uint64_t full_unwinds() const noexcept { return full_unwinds_; }

    size_t module_count() const noexcept { return module_count_; }

private:
    struct DwflEnd {
        void operator()(Dwfl* dwfl) const noexcept { dwfl_end(dwfl); }
    };

    struct Walk {
        std::vector<uint64_t> frames;
        std::vector<UnwindMemo::Read> reads;
        int status;          // dwfl_getthread_frames's: 0 when the outermost frame was reached
        bool remembered;     // every read was recorded
        uint64_t reach = 0;  // one past the highest word read successfully
        bool read_failed = false;
        bool read_past_copy = false;  // a failed read above the copy's last byte
    };
    std::vector<uint64_t> unwind_with_libdwfl(const StackSnapshot& snapshot, size_t max_frames);
    Walk walk_frames(const StackSnapshot& snapshot, size_t max_frames, UnwindMemo::Inputs inputs);
    static bool agree(const Walk& full, const Walk& check);
    void report_modules(const ProcessMaps& maps, uint32_t tgid, const OpenMappedFile& open_file);
    Dwfl_Module* report_module(const Mapping& mapping, uint32_t tgid, const OpenMappedFile& open_file);

    // Dwfl_Thread_Callbacks, all served from current_snapshot_.
    static pid_t next_thread(Dwfl* dwfl, void* unwinder, void** thread_argument);
    static bool get_thread(Dwfl* dwfl, pid_t tid, void* unwinder, void** thread_argument);
    static bool read_memory(Dwfl* dwfl, Dwarf_Addr address, Dwarf_Word* result, void* unwinder);
    static bool set_initial_registers(Dwfl_Thread* thread, void* unwinder);
    static const Dwfl_Thread_Callbacks thread_callbacks;

    std::unique_ptr<Dwfl, DwflEnd> dwfl_;
    size_t module_count_ = 0;
    bool attached_ = false;
    // Set only while unwind() runs. libdwfl lets a Dwfl be attached once, and
    // keeps nothing of a thread between dwfl_getthread_frames calls, so one
    // attachment serves every snapshot of the process in turn.
    const StackSnapshot* current_snapshot_ = nullptr;
    std::vector<UnwindMemo::Read> reads_;  // the current unwind's, in order
    bool reads_overflowed_ = false;        // more than reads_ has room for
    uint64_t reach_ = 0;                   // the current walk's Walk::reach
    bool read_failed_ = false;             // and Walk::read_failed
    bool read_past_copy_in_walk_ = false;  // and Walk::read_past_copy
    bool read_past_copy_ = false;
    uint64_t stack_end_found_ = 0;
    UnwindMemo::Inputs given_registers_ = UnwindMemo::Inputs::all_registers;
    // In a checking walk: the first walk's reads, the unimportant answered
    // with poison.
    const std::vector<UnwindMemo::Read>* poisoned_ = nullptr;
    UnwindMemo memo_;
    uint64_t remembered_unwinds_ = 0;
    uint64_t full_unwinds_ = 0;
};

}  // namespace waketrace::detail
