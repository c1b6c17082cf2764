// SPDX-License-Identifier: LGPL-2.1-or-later
#include "child_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

namespace waketrace::cli {
namespace {

[[noreturn]] void run_child(int release_fd, const std::vector<std::string>& argv) {
    char go = 0;
    // EOF without a byte means the parent gave up (e.g. attach failed).
    if (read(release_fd, &go, 1) != 1)
        _exit(127);
    close(release_fd);
    std::vector<char*> args;
    for (const std::string& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "waketrace: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
}

}  // namespace

ChildCommand::ChildCommand(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe");
    pid_ = fork();
    if (pid_ < 0) {
        const int err = errno;
        close(fds[0]);
        close(fds[1]);
        throw std::system_error(err, std::generic_category(), "fork");
    }
    if (pid_ == 0) {
        close(fds[1]);
        run_child(fds[0], argv);
    }
    close(fds[0]);
    release_fd_ = fds[1];
}

ChildCommand::~ChildCommand() {
    if (release_fd_ >= 0)
        close(release_fd_);  // an unreleased child reads EOF and exits
    if (pid_ > 0 && !reaped_) {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
}

namespace {

// The state letter of /proc/PID/stat ('S': sleeping), or '?' if unreadable.
char process_state(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return '?';
    const size_t comm_end = line.rfind(')');
    return comm_end != std::string::npos && comm_end + 2 < line.size() ? line[comm_end + 2] : '?';
}

}  // namespace

void ChildCommand::wait_until_held() const {
    // Between fork() and its read() the child does nothing that sleeps.
    for (int attempt = 0; attempt < 1000 && process_state(pid_) != 'S'; ++attempt)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void ChildCommand::release() {
    const char go = 1;
    if (write(release_fd_, &go, 1) != 1)
        throw std::system_error(errno, std::generic_category(), "starting the command");
    close(release_fd_);
    release_fd_ = -1;
}

bool ChildCommand::reap_if_exited() {
    if (reaped_)
        return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_)
        return false;
    reaped_ = true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
}

}  // namespace waketrace::cli
