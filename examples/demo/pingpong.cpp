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
#include <thread>

namespace {

struct Pipe {
    int read_end = -1;
    int write_end = -1;
    Pipe() {
        int fds[2];
        if (pipe(fds) != 0) {
            std::perror("pipe");
            std::exit(1);
        }
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        close(read_end);
        close(write_end);
    }
};

constexpr char kToken = 't';
constexpr char kStop = 's';

// Out of line and built with frame pointers, so they show in user stacks.
__attribute__((noinline)) void send(int fd, char byte) {
    if (write(fd, &byte, 1) != 1)
        std::exit(1);
}

__attribute__((noinline)) char receive(int fd) {
    char byte = kStop;
    return read(fd, &byte, 1) == 1 ? byte : kStop;
}

__attribute__((noinline)) void ping(int rounds, int sleep_ms, const Pipe& to_pong, const Pipe& from_pong) {
    pthread_setname_np(pthread_self(), "demo-ping");
    for (int i = 0; i < rounds; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        send(to_pong.write_end, kToken);
        receive(from_pong.read_end);
    }
    send(to_pong.write_end, kStop);
}

__attribute__((noinline)) void pong(const Pipe& from_ping, const Pipe& to_ping) {
    pthread_setname_np(pthread_self(), "demo-pong");
    while (receive(from_ping.read_end) == kToken)
        send(to_ping.write_end, kToken);
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 50;
    const int sleep_ms = argc > 2 ? std::atoi(argv[2]) : 10;
    if (rounds <= 0 || sleep_ms < 0) {
        std::fprintf(stderr, "usage: waketrace-demo [ROUNDS [SLEEP_MS]]\n");
        return 2;
    }
    Pipe ping_to_pong;
    Pipe pong_to_ping;
    std::thread pong_thread(pong, std::cref(ping_to_pong), std::cref(pong_to_ping));
    std::thread ping_thread(ping, rounds, sleep_ms, std::cref(ping_to_pong), std::cref(pong_to_ping));
    ping_thread.join();
    pong_thread.join();
    std::printf("waketrace-demo: %d rounds of %d ms sleep + pipe ping-pong done\n", rounds, sleep_ms);
    return 0;
}
