// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Test helpers: temporary files, the fixture library and program built by
// meson.build, and addresses read from /proc/kallsyms.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace symfixture {

// A file holding `contents`, deleted when this goes out of scope (unless
// remove() already did).
class TempFile {
public:
    explicit TempFile(std::string_view contents);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }
    void remove();

private:
    std::string path_;
    bool removed_ = false;
};

std::string read_file(const std::string& path);

// A shared library loaded with dlopen, unloaded on destruction.
class Library {
public:
    explicit Library(const std::string& path);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    // The run-time address of symbol `name` (as mangled); throws when absent.
    uint64_t address_of(const char* name) const;

private:
    void* handle_;
};

// The fixture shared library, with the run-time addresses of its functions.
class LoadedLibrary : public Library {
public:
    explicit LoadedLibrary(const std::string& path);

    uint64_t leaf() const { return leaf_; }      // symfixture_leaf
    uint64_t caller() const { return caller_; }  // symfixture_caller
    uint64_t twice() const { return twice_; }    // symfixture::inner::twice(int)

private:
    uint64_t leaf_;
    uint64_t caller_;
    uint64_t twice_;
};

// A temporary directory, removed with its contents on destruction.
class TempDirectory {
public:
    TempDirectory();
    ~TempDirectory();
    TempDirectory(const TempDirectory&) = delete;
    TempDirectory& operator=(const TempDirectory&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

// A fixture program (the one built as SYMFIXTURE_PROGRAM by default), running
// until stop() or destruction. It prints addresses on its first line.
class RunningProgram {
public:
    RunningProgram();
    explicit RunningProgram(const std::string& path);
    ~RunningProgram();
    RunningProgram(const RunningProgram&) = delete;
    RunningProgram& operator=(const RunningProgram&) = delete;

    pid_t pid() const { return pid_; }
    // The addresses the program printed, in order.
    const std::vector<uint64_t>& printed() const { return printed_; }
    // Where symfixture_program_worker is, as SYMFIXTURE_PROGRAM prints it.
    uint64_t worker_address() const { return printed_.at(0); }
    // Kills and reaps the program: afterwards /proc/PID is gone.
    void stop();

private:
    pid_t pid_ = -1;
    std::vector<uint64_t> printed_;
};

struct CommandResult {
    int exit_status = -1;  // -1 when killed by a signal
    std::string output;    // stdout
};

// Runs argv[0] (searched in PATH) to completion with `environment` added to
// ours ("NAME=value" each); its stderr goes to ours. Throws when it cannot start.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& environment = {});
// The same, throwing unless it exits with status 0.
std::string run_checked(const std::vector<std::string>& argv,
                        const std::vector<std::string>& environment = {});

// The full path of `program` in PATH, or nullopt.
std::optional<std::string> find_in_path(std::string_view program);

// Copies `from` to `to` as an executable file.
void copy_executable(const std::string& from, const std::string& to);

// The 1-based line of `source_file` holding `marker`; throws when none does.
uint32_t line_of(const std::string& source_file, std::string_view marker);

// Whether `path` ends with "/" + `file_name` (or is it).
bool names_file(std::string_view path, std::string_view file_name);

// A pid that existed a moment ago and no longer does.
pid_t exited_pid();

// Address of a text symbol in /proc/kallsyms (0 when addresses are hidden).
std::optional<uint64_t> kallsyms_address(std::string_view name);

// Whether /proc/self/map_files can be opened here (needs CAP_SYS_ADMIN).
bool map_files_readable(uint64_t address);

std::string canonical_path(const std::string& path);

}  // namespace symfixture
