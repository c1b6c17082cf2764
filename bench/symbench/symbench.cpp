// SPDX-License-Identifier: LGPL-2.1-or-later
//
// wt-symbench: how many user-space addresses per second libwaketrace's
// Symbolizer names, on addresses the other tools can be given too.
//
//   wt-symbench OUT_DIR [MAX_ADDRESSES]
//
// Samples function addresses (one inside each function symbol, in a fixed
// pseudo-random order) from the ELF files this process maps: this binary
// (libwaketrace's own symbols) and the libraries it links (libc, libstdc++,
// libbpf, libelf, libdw, libfmt...). Writes them to OUT_DIR:
//   addresses.txt          absolute addresses in this process, one per line
//                          (for `eu-addr2line --pid`)
//   module-N.txt           the ELF virtual addresses of those in module N
//                          (for `addr2line -e`), its path in modules.txt
// Then names them with a new Symbolizer (cold: maps, ELF files, symbol tables
// read on the way) and again with the same one (warm), prints one JSON line,
// and stays alive until standard input closes so the other tools can
// symbolize against this very process.
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "symbolize/symbolizer.hpp"

namespace {

struct Module {
    std::string path;
    uint64_t bias = 0;  // load address - ELF virtual address
};

struct Sample {
    size_t module;
    uint64_t elf_address;
};

// The loaded ELF files and where each is loaded.
std::vector<Module> loaded_modules() {
    std::vector<Module> modules;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* out = static_cast<std::vector<Module>*>(data);
            std::string name = info->dlpi_name ? info->dlpi_name : "";
            if (name.empty())
                name = "/proc/self/exe";
            // Every file-backed object but the dynamic loader (no vdso: no file).
            if (name[0] == '/' && name.find("/ld-linux") == std::string::npos)
                out->push_back({name, info->dlpi_addr});
            return 0;
        },
        &modules);
    for (Module& module : modules) {
        if (module.path == "/proc/self/exe") {
            char path[4096];
            const ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
            if (length > 0)
                module.path.assign(path, size_t(length));
        }
    }
    return modules;
}

// One address inside each sized function symbol of the file (.symtab when
// present, .dynsym otherwise), deduplicated.
std::vector<uint64_t> function_addresses(const std::string& path) {
    std::vector<uint64_t> addresses;
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return addresses;
    std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd, ELF_C_READ, nullptr), &elf_end);
    std::set<uint64_t> seen;
    for (const Elf64_Word wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
        for (Elf_Scn* section = nullptr; elf && (section = elf_nextscn(elf.get(), section));) {
            GElf_Shdr header;
            if (!gelf_getshdr(section, &header) || header.sh_type != wanted || header.sh_entsize == 0)
                continue;
            Elf_Data* data = elf_getdata(section, nullptr);
            for (size_t i = 0; data && i < header.sh_size / header.sh_entsize; i++) {
                GElf_Sym symbol;
                if (gelf_getsym(data, int(i), &symbol) && GELF_ST_TYPE(symbol.st_info) == STT_FUNC &&
                    symbol.st_shndx != SHN_UNDEF && symbol.st_size > 0)
                    seen.insert(symbol.st_value + symbol.st_size / 2);
            }
        }
        if (!seen.empty())
            break;
    }
    close(fd);
    addresses.assign(seen.begin(), seen.end());
    return addresses;
}

std::vector<Sample> sample(const std::vector<Module>& modules, size_t max_addresses) {
    std::vector<Sample> samples;
    for (size_t m = 0; m < modules.size(); m++)
        for (uint64_t address : function_addresses(modules[m].path))
            samples.push_back({m, address});
    std::mt19937_64 random(20240605);
    std::shuffle(samples.begin(), samples.end(), random);
    if (samples.size() > max_addresses)
        samples.resize(max_addresses);
    return samples;
}

void write_inputs(const std::string& dir, const std::vector<Module>& modules,
                  const std::vector<Sample>& samples) {
    std::ofstream absolute(dir + "/addresses.txt");
    std::ofstream names(dir + "/modules.txt");
    std::vector<std::ofstream> per_module;
    for (size_t m = 0; m < modules.size(); m++) {
        names << modules[m].path << '\n';
        per_module.emplace_back(fmt::format("{}/module-{}.txt", dir, m));
    }
    for (const Sample& s : samples) {
        absolute << fmt::format("0x{:x}\n", s.elf_address + modules[s.module].bias);
        per_module[s.module] << fmt::format("0x{:x}\n", s.elf_address);
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: wt-symbench OUT_DIR [MAX_ADDRESSES]\n");
        return 2;
    }
    const std::string dir = argv[1];
    const size_t max_addresses = argc == 3 ? std::strtoul(argv[2], nullptr, 10) : 20000;
    elf_version(EV_CURRENT);

    const std::vector<Module> modules = loaded_modules();
    const std::vector<Sample> samples = sample(modules, max_addresses);
    write_inputs(dir, modules, samples);
    std::vector<uint64_t> addresses;
    for (const Sample& s : samples)
        addresses.push_back(s.elf_address + modules[s.module].bias);

    const uint32_t self = uint32_t(getpid());
    auto start = std::chrono::steady_clock::now();
    waketrace::detail::Symbolizer symbolizer;
    const std::vector<waketrace::Frame> cold = symbolizer.user_frames(self, addresses);
    const double cold_s = seconds_since(start);
    start = std::chrono::steady_clock::now();
    const std::vector<waketrace::Frame> warm = symbolizer.user_frames(self, addresses);
    const double warm_s = seconds_since(start);

    const auto resolved =
        std::count_if(cold.begin(), cold.end(), [](const waketrace::Frame& f) { return f.resolved(); });
    fmt::print(
        "{{\"pid\": {}, \"addresses\": {}, \"modules\": {}, \"resolved\": {}, "
        "\"cold_s\": {:.6f}, \"warm_s\": {:.6f}, \"warm_same\": {}}}\n",
        self, addresses.size(), modules.size(), resolved, cold_s, warm_s,
        warm.size() == cold.size() ? "true" : "false");
    std::fflush(stdout);

    // Keep the process (and its mappings) alive for eu-addr2line --pid.
    char buffer[256];
    while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
    }
    return 0;
}
