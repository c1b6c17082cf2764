// SPDX-License-Identifier: LGPL-2.1-or-later
#include "capture/rodata_options.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "waketrace/options.hpp"

namespace waketrace::detail {
namespace {

struct Global {
    size_t offset = 0;
    size_t size = 0;
};

[[noreturn]] void disagree(std::string_view name, const std::string& why) {
    throw Error(EINVAL, fmt::format("internal error: option {} and the BPF program disagree: {}", name, why));
}

Global find_global(const btf* types, std::string_view name) {
    const int section_id = btf__find_by_name_kind(types, ".rodata", BTF_KIND_DATASEC);
    if (section_id < 0)
        disagree(name, "the program has no .rodata section");
    const btf_type* section = btf__type_by_id(types, uint32_t(section_id));
    const btf_var_secinfo* vars = btf_var_secinfos(section);
    for (uint16_t i = 0; i < btf_vlen(section); ++i) {
        const btf_type* var = btf__type_by_id(types, vars[i].type);
        if (var && name == btf__name_by_offset(types, var->name_off))
            return Global{vars[i].offset, vars[i].size};
    }
    disagree(name, "the program has no .rodata global of that name");
}

// The Config member's size: a flag is a bool, a number as large as its C field.
size_t value_size(const options::Option& option) {
    return option.kind == options::Kind::flag ? sizeof(bool) : option.c_size;
}

void write_value(unsigned char* at, size_t size, uint64_t value) {
    if (size == sizeof(uint8_t)) {
        const uint8_t narrow = uint8_t(value);
        std::memcpy(at, &narrow, size);
    } else if (size == sizeof(uint32_t)) {
        const uint32_t narrow = uint32_t(value);
        std::memcpy(at, &narrow, size);
    } else {
        std::memcpy(at, &value, sizeof(value));
    }
}

}  // namespace

void set_rodata_options(const bpf_object* object, void* rodata, size_t rodata_size, const Config& config) {
    const btf* types = bpf_object__btf(object);
    auto* data = static_cast<unsigned char*>(rodata);
    for (const options::Option& option : options::table) {
        if (!option.bpf_global)
            continue;
        if (!types || !data)
            disagree(option.name, "the program has no BTF or no .rodata");
        const Global global = find_global(types, option.name);
        if (global.size != value_size(option) || global.offset + global.size > rodata_size)
            disagree(option.name, fmt::format("the global is {} bytes, the Config member {}", global.size,
                                              value_size(option)));
        // An optional option left unset keeps the program's own initial value.
        if (const std::optional<uint64_t> value = option.get(config))
            write_value(data + global.offset, global.size, *value);
    }
}

}  // namespace waketrace::detail
