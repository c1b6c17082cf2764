// SPDX-License-Identifier: LGPL-2.1-or-later
#include "unwind/process_unwinder.hpp"

#include <dwarf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <type_traits>

#include <fmt/format.h>

#include "process/private_copy.hpp"
#include "unwind/load_bias.hpp"
#include "waketrace/error.hpp"

namespace waketrace::detail {

namespace {

static_assert(std::is_same_v<Dwarf_Word, uint64_t>, "registers are handed to libdwfl as they are");

// Reads an unwind may make and still be remembered: two per frame is usual,
// and a 16 KiB copy holds 2,048 words.
constexpr size_t kMaxRememberedReads = 1024;

// libdwfl asks for a thread id; the one thread it unwinds is the snapshot's,
// whatever its real id.
constexpr pid_t snapshot_thread = 1;

// Every module is reported with its file already open, so libdwfl never has
// to look for one.
int find_no_elf(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) { return -1; }

// No separate debug files: the CFI that matters is .eh_frame, which is in the
// mapped file itself (a .debug_frame there is still used), and a lookup in
// the unwind path must never wait on the network, which libdwfl's standard
// lookup may do through debuginfod.
int find_no_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word,
                      char**) {
    return -1;
}

const Dwfl_Callbacks* dwfl_callbacks() {
    static const Dwfl_Callbacks callbacks = [] {
        Dwfl_Callbacks c{};
        c.find_elf = find_no_elf;
        c.find_debuginfo = find_no_debuginfo;
        return c;
    }();
    return &callbacks;
}

bool same_file(const Mapping& a, const Mapping& b) {
    return a.inode == b.inode && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor && a.path == b.path;
}

struct FrameCollector {
    size_t max_frames;
    std::vector<uint64_t> addresses;
};

// The first pc is the snapshot's ip; the others are return addresses, kept
// as they are (whoever names them looks up address - 1).
int collect_frame(Dwfl_Frame* frame, void* collector_pointer) {
    auto& collector = *static_cast<FrameCollector*>(collector_pointer);
    Dwarf_Addr pc = 0;
    if (!dwfl_frame_pc(frame, &pc, nullptr) || pc == 0)
        return DWARF_CB_ABORT;
    collector.addresses.push_back(pc);
    return collector.addresses.size() < collector.max_frames ? DWARF_CB_OK : DWARF_CB_ABORT;
}

}  // namespace

const Dwfl_Thread_Callbacks ProcessUnwinder::thread_callbacks = [] {
    Dwfl_Thread_Callbacks c{};
    c.next_thread = next_thread;
    c.get_thread = get_thread;
    c.memory_read = read_memory;
    c.set_initial_registers = set_initial_registers;
    return c;
}();

ProcessUnwinder::ProcessUnwinder(const ProcessMaps& maps, uint32_t tgid, const OpenMappedFile& open_file)
    : dwfl_(dwfl_begin(dwfl_callbacks())) {
    if (!dwfl_)
        throw Error(ENOMEM, fmt::format("cannot start libdwfl: {}", dwfl_errmsg(-1)));
    report_modules(maps, tgid, open_file);
    reads_.reserve(kMaxRememberedReads);
    // Without a module libdwfl cannot tell the architecture, and there would
    // be no CFI to unwind with anyway.
    if (module_count_ > 0)
        attached_ =
            dwfl_attach_state(dwfl_.get(), nullptr, static_cast<pid_t>(tgid), &thread_callbacks, this);
}

ProcessUnwinder::~ProcessUnwinder() = default;

void ProcessUnwinder::report_modules(const ProcessMaps& maps, uint32_t tgid,
                                     const OpenMappedFile& open_file) {
    dwfl_report_begin(dwfl_.get());
    const Mapping* last_reported = nullptr;
    Dwarf_Addr last_reported_end = 0;
    for (const Mapping& mapping : maps.mappings()) {
        if (!mapping.executable || !mapping.is_file())
            continue;
        // A file reported once covers all its segments; a second executable
        // mapping inside that range (a split VMA) must not report it again.
        if (last_reported && same_file(*last_reported, mapping) && mapping.start < last_reported_end)
            continue;
        Dwfl_Module* module = report_module(mapping, tgid, open_file);
        if (!module)
            continue;
        last_reported = &mapping;
        dwfl_module_info(module, nullptr, nullptr, &last_reported_end, nullptr, nullptr, nullptr, nullptr);
        ++module_count_;
    }
    dwfl_report_end(dwfl_.get(), nullptr, nullptr);
}

Dwfl_Module* ProcessUnwinder::report_module(const Mapping& mapping, uint32_t tgid,
                                            const OpenMappedFile& open_file) {
    UniqueFd fd = open_file(tgid, mapping);
    if (!fd)
        return nullptr;
    // libdwfl reads the file through mmap: only a private copy cannot be
    // truncated under it (SIGBUS). Symbolizer::open_file hands one already.
    try {
        fd = ensure_private_copy(std::move(fd), mapping.path);
    } catch (const Error&) {
        return nullptr;  // too big, or no fd left: frames in it end the unwind
    }
    std::optional<std::vector<CodeSegment>> segments = read_code_segments(fd.get());
    if (!segments)
        return nullptr;
    static const uint64_t page_size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    std::optional<uint64_t> bias = load_bias(mapping, *segments, page_size);
    if (!bias)
        return nullptr;
    // add_p_vaddr: `bias` is added to the ELF addresses (ignored for ET_EXEC,
    // which is where its addresses say).
    Dwfl_Module* module =
        dwfl_report_elf(dwfl_.get(), mapping.path.c_str(), mapping.path.c_str(), fd.get(), *bias, true);
    if (module)
        fd.release();  // libdwfl closes it in dwfl_end
    return module;
}

std::vector<uint64_t> ProcessUnwinder::unwind(const StackSnapshot& snapshot, size_t max_frames) {
    max_frames = max_frames == 0 ? 1 : max_frames;
    stack_end_found_ = 0;
    read_past_copy_ = false;
    std::vector<uint64_t> addresses;
    if (attached_) {
        if (const std::vector<uint64_t>* known = memo_.find(snapshot, max_frames)) {
            ++remembered_unwinds_;
            addresses = *known;
        } else {
            addresses = unwind_with_libdwfl(snapshot, max_frames);
        }
    }
    if (addresses.empty() && snapshot.ip() != 0)
        addresses.push_back(snapshot.ip());
    return addresses;
}

// Unwinds with libdwfl and remembers the unwind. The first unwind from a
// place (rip, rsp) is remembered by all its inputs; from the second on,
// walks with fewer inputs find what decided it (UnwindMemo).
std::vector<uint64_t> ProcessUnwinder::unwind_with_libdwfl(const StackSnapshot& snapshot, size_t max_frames) {
    ++full_unwinds_;
    const bool place_known = memo_.knows_place(snapshot);
    Walk walk = walk_frames(snapshot, max_frames, UnwindMemo::Inputs::all_registers);
    // libdwfl ends an unwind whose return address it cannot read as it ends
    // one at the outermost frame: only a walk with no failed read reached it.
    if (walk.status == 0 && !walk.read_failed)
        stack_end_found_ = walk.reach;
    read_past_copy_ = walk.read_past_copy;
    if (!walk.remembered)
        return std::move(walk.frames);
    UnwindMemo::Inputs inputs = UnwindMemo::Inputs::all_registers;
    if (place_known) {
        std::vector<UnwindMemo::Read> guessed = walk.reads;
        UnwindMemo::guess_important(guessed, walk.frames);
        for (UnwindMemo::Inputs fewer :
             {UnwindMemo::Inputs::stack_pointer, UnwindMemo::Inputs::frame_registers}) {
            poisoned_ = &guessed;
            const Walk check = walk_frames(snapshot, max_frames, fewer);
            poisoned_ = nullptr;
            if (agree(walk, check)) {
                inputs = fewer;
                walk.reads = std::move(guessed);
                break;
            }
        }
    }
    memo_.remember(snapshot, max_frames, inputs, std::move(walk.reads), walk.frames);
    return std::move(walk.frames);
}

// Same frames, same outcome, the same reads made with the same success.
bool ProcessUnwinder::agree(const Walk& full, const Walk& check) {
    if (!check.remembered || check.status != full.status || check.frames != full.frames ||
        check.reads.size() != full.reads.size())
        return false;
    for (size_t i = 0; i < full.reads.size(); ++i)
        if (check.reads[i].address != full.reads[i].address || check.reads[i].ok != full.reads[i].ok)
            return false;
    return true;
}

ProcessUnwinder::Walk ProcessUnwinder::walk_frames(const StackSnapshot& snapshot, size_t max_frames,
                                                   UnwindMemo::Inputs inputs) {
    FrameCollector collector{max_frames, {}};
    current_snapshot_ = &snapshot;
    given_registers_ = inputs;
    reads_.clear();
    reads_overflowed_ = false;
    reach_ = 0;
    read_failed_ = false;
    read_past_copy_in_walk_ = false;
    // The status says why the walk ended (the frames found are the answer):
    // compared between the two walks of one snapshot.
    const int status = dwfl_getthread_frames(dwfl_.get(), snapshot_thread, collect_frame, &collector);
    current_snapshot_ = nullptr;
    return {std::move(collector.addresses), reads_, status, !reads_overflowed_, reach_, read_failed_,
            read_past_copy_in_walk_};
}

pid_t ProcessUnwinder::next_thread(Dwfl*, void* unwinder, void** thread_argument) {
    if (*thread_argument)
        return 0;  // the one thread was already listed
    *thread_argument = unwinder;
    return snapshot_thread;
}

bool ProcessUnwinder::get_thread(Dwfl*, pid_t tid, void* unwinder, void** thread_argument) {
    if (tid != snapshot_thread)
        return false;
    *thread_argument = unwinder;
    return true;
}

bool ProcessUnwinder::read_memory(Dwfl*, Dwarf_Addr address, Dwarf_Word* result, void* unwinder) {
    auto* self = static_cast<ProcessUnwinder*>(unwinder);
    if (!self->current_snapshot_)
        return false;
    UnwindMemo::Read read{address, 0, false, true};
    read.ok = UnwindMemo::read(*self->current_snapshot_, address, &read.value);
    if (read.ok)
        self->reach_ = std::max<uint64_t>(self->reach_, address + sizeof(Dwarf_Word));
    else
        self->read_failed_ = true;
    const StackSnapshot& snapshot = *self->current_snapshot_;
    if (!read.ok && address >= snapshot.stack_address &&
        address - snapshot.stack_address >= snapshot.stack_size)
        self->read_past_copy_in_walk_ = true;
    // The checking walk: an unimportant read of the first walk answers poison.
    const size_t index = self->reads_.size();
    const std::vector<UnwindMemo::Read>* guessed = self->poisoned_;
    const bool poison = read.ok && guessed && index < guessed->size() && !(*guessed)[index].important;
    // The memo needs every read, failed ones too. No allocation here (this
    // is called from C): past the room reserved, the unwind is not remembered.
    if (self->reads_.size() < self->reads_.capacity())
        self->reads_.push_back(read);
    else
        self->reads_overflowed_ = true;
    *result = poison ? UnwindMemo::poison(index) : read.value;
    return read.ok;
}

bool ProcessUnwinder::set_initial_registers(Dwfl_Thread* thread, void* unwinder) {
    const auto* self = static_cast<ProcessUnwinder*>(unwinder);
    const StackSnapshot* snapshot = self->current_snapshot_;
    if (!snapshot)
        return false;
    // The registers not given are undefined to libdwfl: a step that needs
    // one fails.
    const UnwindMemo::GivenRegisters given = UnwindMemo::given_registers(self->given_registers_);
    if (!dwfl_thread_state_registers(thread, int(given.first), unsigned(given.count),
                                     snapshot->registers.data() + given.first))
        return false;
    dwfl_thread_state_register_pc(thread, snapshot->ip());
    return true;
}

}  // namespace waketrace::detail
