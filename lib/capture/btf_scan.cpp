// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/btf_scan.hpp"

#include <fcntl.h>
#include <linux/btf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "support/unique_fd.hpp"

namespace waketrace::detail {
namespace {

// A window on the file that moves forward as the scan does; asking for
// bytes outside it re-reads from there. Grows only for a record larger
// than a chunk.
class FileWindow {
public:
    FileWindow(int fd, size_t chunk) : fd_(fd), chunk_(std::max<size_t>(chunk, 1)) {}

    // `size` contiguous bytes from `offset`, or nullptr when the file ends
    // first or cannot be read.
    const uint8_t* at(uint64_t offset, size_t size) {
        if (offset < start_ || offset + size > start_ + filled_) {
            if (!fill(offset, std::max(size, chunk_)) || size > filled_)
                return nullptr;
        }
        return buffer_.data() + (offset - start_);
    }

private:
    bool fill(uint64_t offset, size_t size) {
        if (buffer_.size() < size)
            buffer_.resize(size);
        start_ = offset;
        filled_ = 0;
        while (filled_ < size) {
            const ssize_t got = pread(fd_, buffer_.data() + filled_, size - filled_, off_t(offset + filled_));
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return false;
            if (got == 0)
                break;
            filled_ += size_t(got);
        }
        return true;
    }

    int fd_;
    size_t chunk_;
    std::vector<uint8_t> buffer_;
    uint64_t start_ = 0;
    size_t filled_ = 0;
};

template <typename T>
T load(const uint8_t* bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(value));
    return value;
}

// Bytes that follow a btf_type of this kind; -1 for a kind this reader does
// not know, whose size it cannot skip.
long trailing_bytes(uint32_t kind, uint32_t vlen) {
    switch (kind) {
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return 0;
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return 4;
    case BTF_KIND_ARRAY: return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return long(vlen) * sizeof(btf_member);
    case BTF_KIND_ENUM: return long(vlen) * sizeof(btf_enum);
    case BTF_KIND_FUNC_PROTO: return long(vlen) * sizeof(btf_param);
    case BTF_KIND_DATASEC: return long(vlen) * sizeof(btf_var_secinfo);
    case BTF_KIND_ENUM64: return long(vlen) * sizeof(btf_enum64);
    default: return -1;
    }
}

// The names asked about, and every string offset each can be read at (a
// string table may share a name as the tail of a longer string).
enum Name { kSwitchTypedef, kWakingTypedef, kKasanReport, kFuncIdEnum, kTaskPtRegs, kMemAlloc, kNames };
constexpr std::array<std::string_view, kNames> kNameText = {
    "btf_trace_sched_switch", "btf_trace_sched_waking", "kasan_report", "bpf_func_id",
    "BPF_FUNC_task_pt_regs",  "bpf_mem_alloc"};

class Scan {
public:
    Scan(int fd, size_t chunk) : window_(fd, chunk), chunk_(std::max<size_t>(chunk, 1)) {}

    std::optional<BtfFacts> run() {
        const uint8_t* header = window_.at(0, sizeof(btf_header));
        if (!header)
            return std::nullopt;
        const auto hdr = load<btf_header>(header);
        if (hdr.magic != BTF_MAGIC || hdr.hdr_len < sizeof(btf_header))
            return std::nullopt;
        types_ = hdr.hdr_len + uint64_t(hdr.type_off);
        types_end_ = types_ + hdr.type_len;
        if (!find_names(hdr.hdr_len + uint64_t(hdr.str_off), hdr.str_len) || !scan_types())
            return std::nullopt;
        if (switch_pointer_ && !find_switch_params())
            return std::nullopt;
        return facts_;
    }

private:
    struct TypeHeader {
        uint32_t name_off, kind, vlen, type;  // `type`: the referenced type id, or size
        uint64_t trailing;                    // file offset of the kind's data
        uint64_t trailing_size;
    };

    bool is(uint32_t name_off, Name name) const {
        const auto& offsets = name_offsets_[name];
        return std::find(offsets.begin(), offsets.end(), name_off) != offsets.end();
    }

    // Streams the string table, noting where each asked-for name starts.
    bool find_names(uint64_t base, uint64_t size) {
        uint64_t offset = 0;
        size_t window = chunk_;
        while (offset < size) {
            const size_t span = size_t(std::min<uint64_t>(window, size - offset));
            const uint8_t* bytes = window_.at(base + offset, span);
            if (!bytes)
                return false;
            size_t used = 0;
            while (const void* end = std::memchr(bytes + used, 0, span - used)) {
                const size_t length = size_t(static_cast<const uint8_t*>(end) - (bytes + used));
                note_string(offset + used, {reinterpret_cast<const char*>(bytes + used), length});
                used += length + 1;
            }
            if (used == 0) {
                if (span == size - offset)
                    break;    // an unterminated last string: nothing to name
                window *= 2;  // a string longer than the window
                continue;
            }
            offset += used;
        }
        return true;
    }

    void note_string(uint64_t offset, std::string_view text) {
        for (size_t name = 0; name < kNames; ++name) {
            const std::string_view wanted = kNameText[name];
            if (text.size() >= wanted.size() && text.substr(text.size() - wanted.size()) == wanted)
                name_offsets_[name].push_back(uint32_t(offset + text.size() - wanted.size()));
        }
    }

    // Reads the type record at `offset` into `out`; false past the end or
    // on a kind of unknown size.
    bool read_type(uint64_t offset, TypeHeader& out) {
        const uint8_t* bytes = window_.at(offset, sizeof(btf_type));
        if (!bytes)
            return false;
        const auto type = load<btf_type>(bytes);
        out.name_off = type.name_off;
        out.kind = BTF_INFO_KIND(type.info);
        out.vlen = BTF_INFO_VLEN(type.info);
        out.type = type.type;
        const long trailing = trailing_bytes(out.kind, out.vlen);
        if (trailing < 0)
            return false;
        out.trailing = offset + sizeof(btf_type);
        out.trailing_size = uint64_t(trailing);
        return out.trailing + out.trailing_size <= types_end_;
    }

    // One pass over every type, for the facts a type's own record gives.
    bool scan_types() {
        TypeHeader type{};
        for (uint64_t offset = types_; offset < types_end_; offset = type.trailing + type.trailing_size) {
            if (!read_type(offset, type))
                return false;
            if (type.kind == BTF_KIND_TYPEDEF && is(type.name_off, kSwitchTypedef)) {
                facts_.sched_switch_typedef = true;
                switch_pointer_ = type.type;
            } else if (type.kind == BTF_KIND_TYPEDEF && is(type.name_off, kWakingTypedef)) {
                facts_.sched_waking_typedef = true;
            } else if (type.kind == BTF_KIND_FUNC && is(type.name_off, kKasanReport)) {
                facts_.kasan_report = true;
            } else if (type.kind == BTF_KIND_STRUCT && is(type.name_off, kMemAlloc)) {
                facts_.bpf_mem_alloc = true;
            } else if (type.kind == BTF_KIND_ENUM && is(type.name_off, kFuncIdEnum)) {
                if (!find_helper(type))
                    return false;
            }
        }
        return true;
    }

    bool find_helper(const TypeHeader& enumeration) {
        for (uint32_t i = 0; i < enumeration.vlen; ++i) {
            const uint8_t* bytes =
                window_.at(enumeration.trailing + uint64_t(i) * sizeof(btf_enum), sizeof(btf_enum));
            if (!bytes)
                return false;
            if (is(load<btf_enum>(bytes).name_off, kTaskPtRegs))
                facts_.task_pt_regs_helper = true;
        }
        return true;
    }

    // The typedef points at a pointer to the prototype; ids are found by
    // walking from the first type (a pass each, and only on this path).
    bool type_by_id(uint32_t id, TypeHeader& out) {
        uint64_t offset = types_;
        for (uint32_t current = 1; offset < types_end_; ++current) {
            if (!read_type(offset, out))
                return false;
            if (current == id)
                return true;
            offset = out.trailing + out.trailing_size;
        }
        return false;
    }

    bool find_switch_params() {
        TypeHeader pointer{}, prototype{};
        if (!type_by_id(switch_pointer_, pointer))
            return false;
        if (pointer.kind != BTF_KIND_PTR || !type_by_id(pointer.type, prototype))
            return true;  // not the shape expected: the count stays unknown
        if (prototype.kind == BTF_KIND_FUNC_PROTO)
            facts_.sched_switch_params = int(prototype.vlen);
        return true;
    }

    FileWindow window_;
    size_t chunk_;
    uint64_t types_ = 0;
    uint64_t types_end_ = 0;
    std::array<std::vector<uint32_t>, kNames> name_offsets_;
    uint32_t switch_pointer_ = 0;
    BtfFacts facts_;
};

}  // namespace

std::optional<BtfFacts> scan_btf_file(const char* path, size_t chunk) {
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::nullopt;
    return Scan(fd.get(), chunk).run();
}

}  // namespace waketrace::detail
