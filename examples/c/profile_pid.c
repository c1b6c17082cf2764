// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * profile_pid: the smallest complete program on the libwaketrace C API, and
 * a starting point for tracers that embed it.
 *
 * Profiles one process for SECONDS seconds and prints where its threads were
 * off CPU and who woke them, in offwaketime's text layout or, with -f, as
 * folded lines for flamegraph.pl. Whatever the profiler could not record is
 * reported on standard error.
 *
 * Usage: profile_pid [-f] PID SECONDS
 * Exit status: 0 done, 1 runtime failure (not root, no such pid...), 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L /* getopt, nanosleep */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <waketrace/waketrace.h>

static const char *program = "profile_pid";

/* problem: what is wrong, or NULL when getopt() has already said it. */
static int usage(const char *problem)
{
	if (problem)
		fprintf(stderr, "%s: %s\n", program, problem);
	fprintf(stderr, "usage: %s [-f] PID SECONDS\n", program);
	return 2;
}

/* Reports a failed library call. The library leaves a message saying what
 * went wrong and what to do; strerror() is only a fallback. */
static int fail(const char *what, int err)
{
	const char *message = wt_last_error();

	if (message[0] == '\0')
		message = strerror(err);
	fprintf(stderr, "%s: %s: %s\n", program, what, message);
	return 1;
}

/* A positive decimal number no larger than max, or 0 when text is not one. */
static unsigned long parse_positive(const char *text, unsigned long max)
{
	char *end;
	unsigned long value;

	if (text[0] < '0' || text[0] > '9')
		return 0;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		return 0;
	return value;
}

/* Sleeps the whole time, even if a signal handler interrupts the sleep. */
static void sleep_seconds(unsigned long seconds)
{
	struct timespec left = { (time_t)seconds, 0 };

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

static void report_loss(uint64_t count, const char *what)
{
	if (count != 0)
		fprintf(stderr, "%s: lost %" PRIu64 " %s\n", program, count, what);
}

/* Nothing is dropped silently: each counter says what is missing from the
 * output and why. */
static void report_losses(const struct wt_losses *losses)
{
	report_loss(losses->stack_collisions, "stacks to stack id collisions");
	report_loss(losses->stack_map_full, "stacks to a full stack map");
	report_loss(losses->stack_errors, "stacks that could not be read");
	report_loss(losses->chain_map_full, "off-CPU periods to a full chain map");
	report_loss(losses->missed_switch_outs, "off-CPU periods: too many traced threads at once");
	report_loss(losses->process_events, "process announcements (user frames may be [unknown])");
}

/* Traces pid for the given time; returns the profile, or NULL after
 * printing why not. */
static struct wt_profile *trace(struct wt_profiler *profiler, uint32_t pid, unsigned long seconds)
{
	struct wt_profile *profile;
	int err;

	err = wt_profiler_add_pid(profiler, pid);
	if (err < 0) {
		fail("cannot filter on the pid", -err);
		return NULL;
	}
	err = wt_profiler_start(profiler);
	if (err < 0) {
		fail("cannot start tracing", -err);
		return NULL;
	}
	sleep_seconds(seconds);
	wt_profiler_stop(profiler);

	profile = wt_profiler_results(profiler);
	if (!profile)
		fail("cannot read the results", errno);
	return profile;
}

int main(int argc, char **argv)
{
	/* Zero means "default" for every option: only the size must be set. */
	struct wt_profiler_opts opts = { .sz = sizeof(opts) };
	uint32_t format = WT_FORMAT_TEXT;
	struct wt_profiler *profiler;
	struct wt_profile *profile;
	unsigned long pid, seconds;
	char *output;
	int opt;

	while ((opt = getopt(argc, argv, "f")) != -1) {
		if (opt != 'f')
			return usage(NULL);
		format = WT_FORMAT_FOLDED;
	}
	if (argc - optind != 2)
		return usage("expects a PID and a duration");
	pid = parse_positive(argv[optind], UINT32_MAX);
	if (pid == 0)
		return usage("PID must be a positive number");
	seconds = parse_positive(argv[optind + 1], 24UL * 3600);
	if (seconds == 0)
		return usage("SECONDS must be a number from 1 to 86400");

	profiler = wt_profiler_new(&opts);
	if (!profiler)
		return fail("cannot create a profiler", errno);
	profile = trace(profiler, (uint32_t)pid, seconds);
	wt_profiler_free(profiler); /* the profile stays valid */
	if (!profile)
		return 1;

	/* Pass the stacks option the profile was taken with (here the default). */
	output = wt_profile_format(profile, format, opts.stacks);
	if (!output) {
		int status = fail("cannot format the results", errno);

		wt_profile_free(profile);
		return status;
	}
	fputs(output, stdout);
	report_losses(&profile->losses);

	wt_string_free(output);
	wt_profile_free(profile);
	return fflush(stdout) == 0 ? 0 : 1;
}
