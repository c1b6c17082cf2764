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

// The fixture shared library loaded with dlopen (unloaded on destruction),
// with the run-time addresses of its functions.
class LoadedLibrary {
public:
    explicit LoadedLibrary(const std::string& path);
    ~LoadedLibrary();
    LoadedLibrary(const LoadedLibrary&) = delete;
    LoadedLibrary& operator=(const LoadedLibrary&) = delete;

    uint64_t leaf() const { return leaf_; }      // symfixture_leaf
    uint64_t caller() const { return caller_; }  // symfixture_caller
    uint64_t twice() const { return twice_; }    // symfixture::inner::twice(int)

private:
    void* handle_;
    uint64_t leaf_;
    uint64_t caller_;
    uint64_t twice_;
};

// The fixture program, running until stop() or destruction.
class RunningProgram {
public:
    RunningProgram();
    ~RunningProgram();
    RunningProgram(const RunningProgram&) = delete;
    RunningProgram& operator=(const RunningProgram&) = delete;

    pid_t pid() const { return pid_; }
    // Where symfixture_program_worker is, as the program printed it.
    uint64_t worker_address() const { return worker_address_; }
    // Kills and reaps the program: afterwards /proc/PID is gone.
    void stop();

private:
    pid_t pid_ = -1;
    uint64_t worker_address_ = 0;
};

// A pid that existed a moment ago and no longer does.
pid_t exited_pid();

// Address of a text symbol in /proc/kallsyms (0 when addresses are hidden).
std::optional<uint64_t> kallsyms_address(std::string_view name);

// Whether /proc/self/map_files can be opened here (needs CAP_SYS_ADMIN).
bool map_files_readable(uint64_t address);

std::string canonical_path(const std::string& path);

}  // namespace symfixture
