// SPDX-License-Identifier: LGPL-2.1-or-later
#include "fixtures.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "symbolize/process_maps.hpp"

namespace symfixture {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(fmt::format("{}: errno {}", what, errno));
}

uint64_t symbol_address(void* handle, const char* name) {
    void* address = dlsym(handle, name);
    if (!address)
        throw std::runtime_error(fmt::format("dlsym {}: {}", name, dlerror()));
    return reinterpret_cast<uint64_t>(address);
}

}  // namespace

TempFile::TempFile(std::string_view contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "symbolize-XXXXXX").string();
    int fd = mkstemp(pattern.data());
    if (fd < 0)
        fail("mkstemp");
    path_ = pattern;
    bool written = ::write(fd, contents.data(), contents.size()) ==
                   static_cast<ssize_t>(contents.size());
    ::close(fd);
    if (!written)
        fail("write " + path_);
}

TempFile::~TempFile() { remove(); }

void TempFile::remove() {
    if (!removed_)
        ::unlink(path_.c_str());
    removed_ = true;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

LoadedLibrary::LoadedLibrary(const std::string& path)
    : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    if (!handle_)
        throw std::runtime_error(fmt::format("dlopen {}: {}", path, dlerror()));
    leaf_ = symbol_address(handle_, "symfixture_leaf");
    caller_ = symbol_address(handle_, "symfixture_caller");
    twice_ = symbol_address(handle_, "_ZN10symfixture5inner5twiceEi");
}

LoadedLibrary::~LoadedLibrary() { dlclose(handle_); }

RunningProgram::RunningProgram() {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe2");
    pid_ = fork();
    if (pid_ < 0)
        fail("fork");
    if (pid_ == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        execl(SYMFIXTURE_PROGRAM, SYMFIXTURE_PROGRAM, static_cast<char*>(nullptr));
        _exit(127);
    }
    ::close(pipe_fds[1]);
    FILE* output = fdopen(pipe_fds[0], "r");
    void* printed = nullptr;
    bool parsed = output && fscanf(output, "%p", &printed) == 1;
    if (output)
        fclose(output);
    worker_address_ = reinterpret_cast<uint64_t>(printed);
    if (!parsed) {
        stop();
        throw std::runtime_error("fixture program printed no address");
    }
}

RunningProgram::~RunningProgram() { stop(); }

void RunningProgram::stop() {
    if (pid_ <= 0)
        return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

pid_t exited_pid() {
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0)
        _exit(0);
    waitpid(pid, nullptr, 0);
    return pid;
}

std::optional<uint64_t> kallsyms_address(std::string_view name) {
    std::ifstream kallsyms("/proc/kallsyms");
    std::string line;
    while (std::getline(kallsyms, line)) {
        std::istringstream fields(line);
        std::string address, type, symbol;
        fields >> address >> type >> symbol;
        if (symbol == name && (type == "T" || type == "t"))
            return std::stoull(address, nullptr, 16);
    }
    return std::nullopt;
}

bool map_files_readable(uint64_t address) {
    std::optional<waketrace::detail::ProcessMaps> maps =
        waketrace::detail::ProcessMaps::read(static_cast<uint32_t>(getpid()));
    const waketrace::detail::Mapping* mapping = maps ? maps->find(address) : nullptr;
    if (!mapping)
        return false;
    std::string path =
        fmt::format("/proc/self/map_files/{:x}-{:x}", mapping->start, mapping->end);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

std::string canonical_path(const std::string& path) {
    return std::filesystem::canonical(path).string();
}

}  // namespace symfixture
