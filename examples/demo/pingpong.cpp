// SPDX-License-Identifier: LGPL-2.1-or-later
// waketrace-demo: a small workload with off-CPU time whose causes are known,
// for trying waketrace:
//   - "demo-pong" blocks reading a pipe until "demo-ping" writes to it;
//   - "demo-ping" sleeps SLEEP_MS before each write, so it is woken by a
//     timer interrupt, and then blocks until pong answers.
// Usage: waketrace-demo [ROUNDS [SLEEP_MS]]   (defaults: 50 rounds, 10 ms)
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <thread>

namespace demo {

constexpr char kToken = 't';
constexpr char kStop = 's';

struct Pipe {
    int read_end = -1;
    int write_end = -1;
};

// Two pipes, one each way, closed when the demo ends.
struct Channels {
    Pipe to_pong;
    Pipe to_ping;
    Channels() {
        int fds[4];
        if (pipe(fds) != 0 || pipe(fds + 2) != 0) {
            std::perror("pipe");
            std::exit(1);
        }
        to_pong = {fds[0], fds[1]};
        to_ping = {fds[2], fds[3]};
    }
    ~Channels() {
        for (int fd : {to_pong.read_end, to_pong.write_end, to_ping.read_end, to_ping.write_end})
            close(fd);
    }
};

// Out of line and built with frame pointers, so they show in user stacks.
__attribute__((noinline)) void send(int fd, char byte) {
    if (write(fd, &byte, 1) != 1)
        std::exit(1);
}

__attribute__((noinline)) char receive(int fd) {
    char byte = kStop;
    return read(fd, &byte, 1) == 1 ? byte : kStop;
}

__attribute__((noinline)) void ping(Channels& channels, int rounds, int sleep_ms) {
    pthread_setname_np(pthread_self(), "demo-ping");
    for (int i = 0; i < rounds; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        send(channels.to_pong.write_end, kToken);
        receive(channels.to_ping.read_end);
    }
    send(channels.to_pong.write_end, kStop);
}

__attribute__((noinline)) void pong(Channels& channels) {
    pthread_setname_np(pthread_self(), "demo-pong");
    while (receive(channels.to_pong.read_end) == kToken)
        send(channels.to_ping.write_end, kToken);
}

}  // namespace demo

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 50;
    const int sleep_ms = argc > 2 ? std::atoi(argv[2]) : 10;
    if (rounds <= 0 || sleep_ms < 0) {
        std::fprintf(stderr, "usage: waketrace-demo [ROUNDS [SLEEP_MS]]\n");
        return 2;
    }
    demo::Channels channels;
    std::thread pong_thread(demo::pong, std::ref(channels));
    std::thread ping_thread(demo::ping, std::ref(channels), rounds, sleep_ms);
    ping_thread.join();
    pong_thread.join();
    std::printf("waketrace-demo: %d rounds of %d ms sleep + pipe ping-pong done\n", rounds, sleep_ms);
    return 0;
}
