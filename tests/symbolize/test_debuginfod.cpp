// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A stripped binary named through a real debuginfod server on this machine.
// The debuginfod client (dlopen'ed by libdw) takes DEBUGINFOD_URLS from the
// environment of the process that symbolizes: that is a helper process
// (symbolize_helper.cpp), so this one's environment stays as it was.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "fixtures.hpp"
#include "split_program.hpp"
#include "support/unique_fd.hpp"

using waketrace::detail::UniqueFd;

namespace {

sockaddr_in loopback(uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A port nobody listens on now (the kernel's pick for a bound socket). It
// could be taken before the server binds it; the server start then fails
// and says so.
uint16_t free_port() {
    UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(socket_fd);
    sockaddr_in address = loopback(0);
    REQUIRE(::bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    return ntohs(address.sin_port);
}

// The HTTP status of GET `path` from 127.0.0.1:`port`; 0 when nothing answers.
int http_status(uint16_t port, const std::string& path) {
    UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval timeout{5, 0};
    setsockopt(socket_fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address = loopback(port);
    if (::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
        return 0;
    std::string request =
        fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (::send(socket_fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size()))
        return 0;
    char reply[64] = {};
    if (::recv(socket_fd.get(), reply, sizeof(reply) - 1, 0) <= 0)
        return 0;
    int status = 0;
    return std::sscanf(reply, "HTTP/%*s %d", &status) == 1 ? status : 0;
}

// `debuginfod` serving the ELF/DWARF files under a directory, stopped on
// destruction.
class DebuginfodServer {
public:
    DebuginfodServer(const std::string& executable, const std::string& served_directory,
                     const std::string& work_directory)
        : port_(free_port()), log_path_(work_directory + "/debuginfod.log") {
        std::string port = std::to_string(port_);
        std::string database = work_directory + "/debuginfod.sqlite";
        pid_ = fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
            execl(executable.c_str(), executable.c_str(), "-F", "-p", port.c_str(), "-d", database.c_str(),
                  served_directory.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~DebuginfodServer() {
        kill(pid_, SIGTERM);
        for (int tries = 0; tries < 50; ++tries) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    DebuginfodServer(const DebuginfodServer&) = delete;
    DebuginfodServer& operator=(const DebuginfodServer&) = delete;

    uint16_t port() const { return port_; }
    std::string log() const { return symfixture::read_file(log_path_); }

    // Waits until the server has indexed the debug file of `build_id`:
    // false when it exits or does not within a minute.
    bool wait_until_serving(const std::string& build_id) {
        std::string path = fmt::format("/buildid/{}/debuginfo", build_id);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        while (std::chrono::steady_clock::now() < deadline) {
            if (http_status(port_, path) == 200)
                return true;
            if (waitpid(pid_, nullptr, WNOHANG) == pid_)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        return false;
    }

private:
    uint16_t port_;
    std::string log_path_;
    pid_t pid_ = -1;
};

struct HelperFrame {
    std::string symbol;
    uint64_t offset = 0;
    std::string file;
    uint32_t line = 0;
    bool inlined = false;
};

// Symbolizes the program's return address in symbolize_helper.cpp's process.
std::vector<HelperFrame> symbolize_in_helper(const symfixture::RunningProgram& program,
                                             const std::vector<std::string>& environment) {
    std::string output = symfixture::run_checked(
        {SYMFIXTURE_SYMBOLIZE, std::to_string(program.pid()), fmt::format("{:x}", program.printed().at(0))},
        environment);
    std::vector<HelperFrame> frames;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        HelperFrame frame;
        std::string offset, number, inlined;
        std::getline(fields, frame.symbol, '\t');
        std::getline(fields, offset, '\t');
        std::getline(fields, frame.file, '\t');
        std::getline(fields, number, '\t');
        std::getline(fields, inlined, '\t');
        frame.offset = std::stoull(offset);
        frame.line = static_cast<uint32_t>(std::stoul(number));
        frame.inlined = inlined == "1";
        frames.push_back(frame);
    }
    return frames;
}

bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string_view(ci) == "true";
}

}  // namespace

TEST_CASE("a stripped binary is named through debuginfod", "[debuginfo][debuginfod]") {
    std::optional<std::string> debuginfod = symfixture::find_in_path("debuginfod");
    if (!debuginfod) {
        if (running_in_ci())
            FAIL("debuginfod is not installed: apt-get install debuginfod");
        WARN("debuginfod is not installed (apt-get install debuginfod): skipping");
        return;
    }
    symfixture::TempDirectory directory;
    std::filesystem::create_directories(directory / "served");
    std::string program = directory / "split_program";
    symfixture::split_debug_info(program, directory / "served/split_program.debug");
    std::string build_id = symfixture::build_id_of(program);
    REQUIRE_FALSE(build_id.empty());

    DebuginfodServer server(*debuginfod, directory / "served", directory.path());
    if (!server.wait_until_serving(build_id))
        FAIL("debuginfod did not serve " << build_id << "; its log:\n" << server.log());
    symfixture::RunningProgram running(program);
    uint32_t record_line = symfixture::line_of(SYMFIXTURE_SPLIT_SOURCE, "line: record call");

    SECTION("with DEBUGINFOD_URLS") {
        std::vector<HelperFrame> frames =
            symbolize_in_helper(running, {fmt::format("DEBUGINFOD_URLS=http://127.0.0.1:{}", server.port()),
                                          "DEBUGINFOD_CACHE_PATH=" + (directory / "cache")});
        REQUIRE(frames.size() == 1);
        CHECK(frames[0].symbol == "symfixture_split_worker");
        CHECK(frames[0].offset == running.printed().at(0) - running.printed().at(1));
        CHECK(symfixture::names_file(frames[0].file, "fixture_split_program.c"));
        CHECK(frames[0].line == record_line);
        CHECK_FALSE(frames[0].inlined);
        // The client kept what it downloaded: proof it came from the server.
        CHECK(std::filesystem::exists(directory / "cache/" + build_id + "/debuginfo"));
    }
    SECTION("without DEBUGINFOD_URLS") {
        std::vector<HelperFrame> frames = symbolize_in_helper(
            running, {"DEBUGINFOD_URLS=", "DEBUGINFOD_CACHE_PATH=" + (directory / "cache")});
        REQUIRE(frames.size() == 1);
        CHECK(frames[0].symbol.empty());
        CHECK(frames[0].line == 0);
    }
}
