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
#include <fmt/ranges.h>

#include "process/process_maps.hpp"

namespace symfixture {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(fmt::format("{}: errno {}", what, errno));
}

}  // namespace

TempFile::TempFile(std::string_view contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "symbolize-XXXXXX").string();
    int fd = mkstemp(pattern.data());
    if (fd < 0)
        fail("mkstemp");
    path_ = pattern;
    bool written = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
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

Library::Library(const std::string& path) : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    if (!handle_)
        throw std::runtime_error(fmt::format("dlopen {}: {}", path, dlerror()));
}

Library::~Library() { dlclose(handle_); }

uint64_t Library::address_of(const char* name) const {
    void* address = dlsym(handle_, name);
    if (!address)
        throw std::runtime_error(fmt::format("dlsym {}: {}", name, dlerror()));
    return reinterpret_cast<uint64_t>(address);
}

LoadedLibrary::LoadedLibrary(const std::string& path)
    : Library(path),
      leaf_(address_of("symfixture_leaf")),
      caller_(address_of("symfixture_caller")),
      twice_(address_of("_ZN10symfixture5inner5twiceEi")) {}

TempDirectory::TempDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "symbolize-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
        fail("mkdtemp");
    path_ = pattern;
}

TempDirectory::~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

RunningProgram::RunningProgram() : RunningProgram(SYMFIXTURE_PROGRAM) {}

RunningProgram::RunningProgram(const std::string& path) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe2");
    pid_ = fork();
    if (pid_ < 0)
        fail("fork");
    if (pid_ == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ::close(pipe_fds[1]);
    FILE* output = fdopen(pipe_fds[0], "r");
    char line[256] = {};
    bool read = output && fgets(line, sizeof(line), output);
    if (output)
        fclose(output);
    std::istringstream fields(read ? line : "");
    std::string field;
    while (fields >> field)
        printed_.push_back(std::stoull(field, nullptr, 16));
    if (printed_.empty()) {
        stop();
        throw std::runtime_error(fmt::format("fixture program {} printed no address", path));
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

CommandResult run_command(const std::vector<std::string>& argv, const std::vector<std::string>& environment) {
    std::vector<char*> arguments;
    for (const std::string& argument : argv)
        arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        fail("pipe2");
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        for (const std::string& variable : environment)
            putenv(const_cast<char*>(variable.c_str()));
        dup2(pipe_fds[1], STDOUT_FILENO);
        execvp(arguments[0], arguments.data());
        _exit(127);
    }
    ::close(pipe_fds[1]);
    CommandResult result;
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(pipe_fds[0], buffer, sizeof(buffer));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        result.output.append(buffer, static_cast<size_t>(got));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string run_checked(const std::vector<std::string>& argv, const std::vector<std::string>& environment) {
    CommandResult result = run_command(argv, environment);
    if (result.exit_status != 0)
        throw std::runtime_error(fmt::format("{} exited with {}", fmt::join(argv, " "), result.exit_status));
    return result.output;
}

std::optional<std::string> find_in_path(std::string_view program) {
    const char* path = getenv("PATH");
    std::istringstream directories(path ? path : "/usr/bin:/bin");
    std::string directory;
    while (std::getline(directories, directory, ':')) {
        std::string candidate = directory + "/" + std::string(program);
        if (!directory.empty() && access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

void copy_executable(const std::string& from, const std::string& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(to, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec);
}

uint32_t line_of(const std::string& source_file, std::string_view marker) {
    std::ifstream source(source_file);
    std::string line;
    for (uint32_t number = 1; std::getline(source, line); ++number) {
        if (line.find(marker) != std::string::npos)
            return number;
    }
    throw std::runtime_error(fmt::format("no \"{}\" in {}", marker, source_file));
}

bool names_file(std::string_view path, std::string_view file_name) {
    if (path == file_name)
        return true;
    return path.size() > file_name.size() && path.substr(path.size() - file_name.size()) == file_name &&
           path[path.size() - file_name.size() - 1] == '/';
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
    std::string path = fmt::format("/proc/self/map_files/{:x}-{:x}", mapping->start, mapping->end);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

std::string canonical_path(const std::string& path) { return std::filesystem::canonical(path).string(); }

}  // namespace symfixture
