// SPDX-License-Identifier: LGPL-2.1-or-later
// `waketrace -- COMMAND`: the command is forked first and held before exec
// until tracing is attached, so its very first block is seen, and the
// profiler is filtered to its pid before it exists as that program.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace waketrace::cli {

class ChildCommand {
public:
    // Forks; the child waits on a pipe, then execs `argv`. Throws
    // std::system_error when fork or pipe fail.
    explicit ChildCommand(const std::vector<std::string>& argv);
    // Kills a child that was never released or is still running.
    ~ChildCommand();
    ChildCommand(const ChildCommand&) = delete;
    ChildCommand& operator=(const ChildCommand&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // Waits (a second at most) until the child sleeps in its wait for
    // release(): that wait then starts before tracing does and is not
    // reported as the command's own.
    void wait_until_held() const;
    void release();  // lets the child exec
    // Reaps the child if it exited; true once it has.
    bool reap_if_exited();
    // Its exit status for the shell (128+signal when killed); valid once reaped.
    int exit_status() const noexcept { return exit_status_; }

private:
    pid_t pid_ = -1;
    int release_fd_ = -1;
    bool reaped_ = false;
    int exit_status_ = 0;
};

}  // namespace waketrace::cli
