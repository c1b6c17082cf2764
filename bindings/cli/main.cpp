// SPDX-License-Identifier: LGPL-2.1-or-later
// waketrace: bcc offwaketime's command line on top of libwaketrace.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>

#include <cmath>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child_command.hpp"
#include "event_reader.hpp"
#include "format/format.hpp"
#include "losses_report.hpp"
#include "options.hpp"
#include "profiler_engine.hpp"
#include "report_output.hpp"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

// A library error in the command line's terms: its message, the errno text
// (unless the message ends with it already), and options the library names
// by their Config members named as the options that set them.
std::string error_text(const waketrace::Error& error) {
    std::string text = waketrace::cli::in_cli_terms(error.message());
    const std::string errno_text = error.code().message();
    if (text.size() < errno_text.size() ||
        text.compare(text.size() - errno_text.size(), errno_text.size(), errno_text) != 0)
        text += ": " + errno_text;
    if (const auto& hint = error.hint()) {
        const std::string option = waketrace::cli::option_for(hint->option);
        if (!option.empty())
            text += fmt::format(" (rerun with {} {})", option, hint->purpose);
    }
    return text;
}

// Waits for the end of tracing: the duration, Ctrl-C / SIGTERM, or (without a
// duration) the traced command's exit. The signals are blocked in every
// thread and collected here with sigtimedwait.
void wait_for_end(const sigset_t& signals, std::optional<double> duration_s,
                  waketrace::cli::ChildCommand* command) {
    timespec deadline{};
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (duration_s) {
        const double whole = std::floor(*duration_s);
        deadline.tv_sec += time_t(whole);
        deadline.tv_nsec += long((*duration_s - whole) * 1e9);
        if (deadline.tv_nsec >= 1'000'000'000) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1'000'000'000;
        }
    }
    for (;;) {
        if (command && !duration_s && command->reap_if_exited())
            return;
        timespec timeout{3600, 0};
        if (duration_s) {
            timespec now{};
            clock_gettime(CLOCK_MONOTONIC, &now);
            const long long left_ns =
                (deadline.tv_sec - now.tv_sec) * 1'000'000'000LL + (deadline.tv_nsec - now.tv_nsec);
            if (left_ns <= 0)
                return;
            timeout = {time_t(left_ns / 1'000'000'000), long(left_ns % 1'000'000'000)};
        }
        const int sig = sigtimedwait(&signals, nullptr, &timeout);
        if (sig == SIGINT || sig == SIGTERM)
            return;
        if (sig == SIGCHLD && command)
            command->reap_if_exited();
    }
}

// --svg: the chains as the report shows them, titled with the command traced.
waketrace::FlameGraphOptions flame_graph_options(const waketrace::cli::Options& options) {
    waketrace::FlameGraphOptions flame;
    flame.format = {options.config.stacks, options.delimiter, options.task_names};
    if (!options.command.empty()) {
        // The program's name rather than its path, then its arguments.
        const std::string& program = options.command.front();
        std::vector<std::string> shown(options.command);
        shown.front() = program.substr(program.rfind('/') + 1);
        flame.title = fmt::format("Off-CPU time by wake chain: {}", fmt::join(shown, " "));
    }
    return flame;
}

// A file --diff was given that is not folded.
struct NotFolded : std::runtime_error {
    using runtime_error::runtime_error;
};

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    if (file.bad())
        throw std::runtime_error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    return text;
}

std::vector<waketrace::FoldedStack> read_folded(const std::string& path) {
    try {
        return waketrace::parse_folded(read_file(path));
    } catch (const waketrace::FoldedSyntaxError& e) {
        throw NotFolded(fmt::format("{} is not a folded file: {}", path, e.what()));
    }
}

// --diff: two files in, one picture out, nothing traced.
int run_diff(const waketrace::cli::Options& options) {
    waketrace::cli::ReportOutput svg(options.svg_path);
    const auto before = read_folded(options.diff_before);
    const auto after = read_folded(options.diff_after);
    waketrace::DiffGraphOptions diff;
    diff.before_name = options.diff_before.substr(options.diff_before.rfind('/') + 1);
    diff.after_name = options.diff_after.substr(options.diff_after.rfind('/') + 1);
    svg.write(waketrace::format_diff_flamegraph_svg(before, after, diff));
    svg.commit();
    return 0;
}

// Nanoseconds since the Unix epoch.
int64_t wall_clock_ns() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

int run(const waketrace::cli::Options& options) {
    // Opened first, so that a report that cannot be written fails before
    // any tracing.
    waketrace::cli::ReportOutput out(options.output_path);
    std::optional<waketrace::cli::ReportOutput> svg;
    if (!options.svg_path.empty())
        svg.emplace(options.svg_path);
    std::optional<waketrace::cli::ReportOutput> pprof;
    if (!options.pprof_path.empty())
        pprof.emplace(options.pprof_path);
    std::optional<waketrace::cli::ReportOutput> perfetto;
    if (!options.perfetto_path.empty())
        perfetto.emplace(options.perfetto_path);

    waketrace::Config config = options.config;
    // --events prints them; --perfetto and --trigger-blocked need them too.
    const bool print_events = config.events;
    config.events = print_events || perfetto || config.trigger_blocked_ms;
    std::unique_ptr<waketrace::cli::ChildCommand> command;
    if (!options.command.empty()) {
        command = std::make_unique<waketrace::cli::ChildCommand>(options.command);
        command->wait_until_held();
        config.pids = {uint32_t(command->pid())};
        config.follow_children = true;  // the command's own children are part of it
    }
    // The library's messages, libbpf's among them; without -v, nothing.
    if (options.verbose)
        config.log = [](waketrace::LogLevel, std::string_view message) {
            fmt::print(stderr, "waketrace: {}\n", message);
        };

    // Blocked before the profiler starts its thread, so that thread inherits
    // the mask and only wait_for_end() sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    waketrace::detail::ProfilerEngine profiler(config);
    profiler.start();
    const int64_t started_ns = wall_clock_ns();  // pprof's time_nanos
    if (!options.folded) {
        const std::string header = waketrace::format_text_header(
            options.config.stacks, waketrace::capture_mode(options.config), options.duration_s,
            options.command.empty() ? "" : options.command[0]);
        out.write(header);
    }
    std::optional<waketrace::cli::FlightRecorder> recorder;
    if (config.trigger_blocked_ms)
        recorder.emplace(profiler, options.trigger_dir, options.trigger_window_s);
    std::optional<waketrace::cli::EventReader> events;
    if (config.events)
        events.emplace(profiler, print_events ? &out : nullptr, perfetto.has_value(),
                       recorder ? &*recorder : nullptr);
    if (command)
        command->release();
    wait_for_end(signals, options.duration_s, command.get());
    profiler.stop();
    if (events)
        events->finish();  // what is left in the ring, after the stop

    const waketrace::Profile profile = profiler.results();
    const waketrace::FormatOptions format{options.config.stacks, options.delimiter, options.task_names,
                                          options.config.histograms};
    const std::string text =
        options.folded ? waketrace::format_folded(profile, format) : waketrace::format_text(profile, format);
    out.write(text);
    if (options.thread_totals)
        out.write(waketrace::format_thread_totals(profile));
    if (svg) {
        svg->write(waketrace::format_flamegraph_svg(profile, flame_graph_options(options)));
        svg->commit();
    }
    if (perfetto) {
        const size_t kept = events->events_kept();
        const auto began = std::chrono::steady_clock::now();
        const std::string trace = events->perfetto_trace();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        if (options.verbose && kept)
            fmt::print(
                stderr,
                "waketrace: Perfetto trace of {} events: {} bytes ({:.1f} an event), made in {:.1f} ms "
                "({:.0f} events/s, naming stacks included)\n",
                kept, trace.size(), double(trace.size()) / double(kept), seconds * 1e3,
                double(kept) / seconds);
        perfetto->write(trace);
        perfetto->commit();
    }
    if (pprof) {
        waketrace::PprofOptions pprof_options;
        pprof_options.stacks = options.config.stacks;
        pprof_options.time_nanos = started_ns;
        pprof->write(waketrace::format_pprof(profile, pprof_options));
        pprof->commit();
    }
    out.commit();
    waketrace::cli::report_losses(stderr, profile.losses, config);
    if (recorder && recorder->incidents_skipped())
        fmt::print(stderr, "WARNING: {} stalls not written: at most {} a minute are\n",
                   recorder->incidents_skipped(), waketrace::cli::FlightRecorder::kMaxDumpsPerMinute);
    if (events && events->events_not_kept())
        fmt::print(stderr,
                   "WARNING: {} off-CPU events left out of the Perfetto trace: it holds the first {}\n",
                   events->events_not_kept(), waketrace::cli::EventReader::kMaxKeptEvents);
    // Like time and strace: the command's status (127 when it could not be
    // run). A command still running when tracing ended was stopped by us.
    return command && command->reap_if_exited() ? command->exit_status() : 0;
}

}  // namespace

int main(int argc, char** argv) {
    waketrace::cli::Options options;
    try {
        options = waketrace::cli::parse_options(argc, argv);
    } catch (const waketrace::cli::UsageError& e) {
        fmt::print(stderr, "waketrace: error: {} (see waketrace --help)\n", e.what());
        return kExitUsage;
    }
    try {
        if (options.show_help) {
            waketrace::cli::ReportOutput out("");
            out.write(waketrace::cli::usage_text("waketrace"));
            return 0;
        }
        return options.diff_before.empty() ? run(options) : run_diff(options);
    } catch (const NotFolded& e) {
        fmt::print(stderr, "waketrace: error: {}\n", e.what());
        return kExitUsage;
    } catch (const waketrace::Error& e) {
        fmt::print(stderr, "waketrace: {}\n", error_text(e));
        return kExitRuntimeError;
    } catch (const std::exception& e) {
        fmt::print(stderr, "waketrace: {}\n", e.what());
        return kExitRuntimeError;
    }
}
