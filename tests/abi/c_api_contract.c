// SPDX-License-Identifier: LGPL-2.1-or-later
/* The C API's contract, as a C99 program written against the 0.1 header
 * would see it (and a check that the header compiles as strict C99):
 * options validation, errors and messages, NULL safety. Needs no privileges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <waketrace/waketrace.h>

static int failures = 0;

#define EXPECT(condition)                                                         \
	do {                                                                      \
		if (!(condition)) {                                               \
			fprintf(stderr, "%s:%d: failed: %s (last error: %s)\n",   \
				__FILE__, __LINE__, #condition, wt_last_error()); \
			failures++;                                               \
		}                                                                 \
	} while (0)

/* What a caller built against an older header passes: only the fields up to
 * max_block_us existed then. */
struct old_opts {
	size_t sz;
	uint32_t flags, threads, stacks, attach, state_mask, stack_storage_size;
	uint64_t min_block_us, max_block_us;
};

static void options_are_validated(void)
{
	struct wt_profiler_opts opts;
	struct old_opts old;
	unsigned char newer[sizeof(struct wt_profiler_opts) + 16];
	struct wt_profiler *profiler;

	profiler = wt_profiler_new(NULL);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	opts.threads = 7;
	errno = 0;
	EXPECT(wt_profiler_new(&opts) == NULL);
	EXPECT(errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "threads") != NULL);
	opts.threads = WT_THREADS_USER_ONLY;

	opts.state_mask = 2; /* without WT_OPT_STATE_FILTER */
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	opts.flags = WT_OPT_STATE_FILTER;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	opts.min_block_us = 10;
	opts.max_block_us = 5;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "min_block_us") != NULL);
	opts.max_block_us = 0; /* no limit */

	opts.reserved[3] = 1;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	opts.reserved[3] = 0;

	opts.stack_sample_percent = 101;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "stack_sample_percent") != NULL);
	opts.stack_sample_percent = 10;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	/* 0.2: carved from what was reserved0 in 0.1 */
	opts.dwarf_stack_bytes = 1000;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "dwarf_stack_bytes") != NULL);
	opts.dwarf_stack_bytes = 8192;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);
	/* carved from reserved[] later: a power of two number of pages */
	opts.dwarf_ring_bytes = 5000;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "dwarf_ring_bytes") != NULL);
	opts.dwarf_ring_bytes = 1u << 20;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);
	opts.dwarf_ring_bytes = 0;
	opts.stack_sample_percent = 0;

	/* 0.3: waker levels per chain, carved from reserved[]; 0 is the
	 * default, 1 (offwaketime) */
	opts.chain_depth = 9;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "chain_depth") != NULL);
	opts.chain_depth = 8;
	opts.max_hops = 64;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);
	opts.chain_depth = 0;
	opts.max_hops = 0;
	profiler = wt_profiler_new(&opts);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	memset(&old, 0, sizeof(old));
	old.sz = sizeof(old);
	old.stacks = WT_STACKS_KERNEL_ONLY;
	profiler = wt_profiler_new((const struct wt_profiler_opts *)&old);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);

	/* An sz that ends inside a field (here the log pointer) is no
	 * struct of any version: refused, not half read. */
	opts.sz = offsetof(struct wt_profiler_opts, log) + 3;
	EXPECT(wt_profiler_new(&opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "sz is") != NULL);
	opts.sz = sizeof(opts);

	/* A newer caller's struct: accepted while its extra bytes are zero. */
	memset(newer, 0, sizeof(newer));
	memcpy(newer, &opts, sizeof(opts));
	((struct wt_profiler_opts *)newer)->sz = sizeof(newer);
	profiler = wt_profiler_new((const struct wt_profiler_opts *)newer);
	EXPECT(profiler != NULL);
	wt_profiler_free(profiler);
	newer[sizeof(newer) - 1] = 1;
	EXPECT(wt_profiler_new((const struct wt_profiler_opts *)newer) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "newer") != NULL);
}

static void errors_before_start(void)
{
	struct wt_profiler *profiler = wt_profiler_new(NULL);

	EXPECT(wt_profiler_add_pid(profiler, 0) == -EINVAL);
	EXPECT(wt_profiler_add_tid(NULL, 1) == -EINVAL);
	errno = 0;
	EXPECT(wt_profiler_results(profiler) == NULL && errno == EINVAL);
	EXPECT(wt_profiler_drain(profiler) == NULL && errno == EINVAL);
	EXPECT(wt_profiler_stop(profiler) == 0);
	EXPECT(wt_profiler_add_pid(profiler, 999999999) == 0);
	EXPECT(wt_profiler_start(profiler) == -ESRCH);
	EXPECT(strstr(wt_last_error(), "999999999") != NULL);
	wt_profiler_free(profiler);

	profiler = wt_profiler_new(NULL);
	EXPECT(wt_profiler_add_cgroup(profiler, NULL) == -EINVAL);
	EXPECT(wt_profiler_add_cgroup(profiler, "") == -EINVAL);
	EXPECT(wt_profiler_add_cgroup(NULL, "/sys/fs/cgroup") == -EINVAL);
	for (int i = 0; i < 8; i++)
		EXPECT(wt_profiler_add_cgroup(profiler, "/nonexistent/cgroup") == 0);
	EXPECT(wt_profiler_add_cgroup(profiler, "/nonexistent/cgroup") == -EINVAL);
	EXPECT(strstr(wt_last_error(), "8 cgroups") != NULL);
	/* Paths are checked at start. */
	EXPECT(wt_profiler_start(profiler) == -ENOENT);
	EXPECT(strstr(wt_last_error(), "/nonexistent/cgroup") != NULL);
	wt_profiler_free(profiler);
}

static void null_is_safe(void)
{
	wt_profiler_free(NULL);
	wt_profile_free(NULL);
	wt_string_free(NULL);
	errno = 0;
	EXPECT(wt_profile_format(NULL, WT_FORMAT_TEXT, WT_STACKS_BOTH) == NULL && errno == EINVAL);
	EXPECT(wt_profiler_start(NULL) == -EINVAL);
	{
		struct wt_source_location where = {.sz = sizeof(where)};

		EXPECT(wt_frame_source(NULL, NULL, &where) == -EINVAL);
	}
	{
		struct wt_extra_losses losses = {.sz = sizeof(losses)};

		EXPECT(wt_profile_extra_losses(NULL, &losses) == -EINVAL);
		EXPECT(strstr(wt_last_error(), "profile") != NULL);
	}
}

/* wt_folded_diff_svg() from C: the graph of two folded texts, and each
 * kind of bad input refused with EINVAL and a message that says where. */
static void folded_diff(void)
{
	const char *before = "app;main;read 100\napp;sleep 80\n";
	const char *after = "app;main;read 300\napp;accept 20\n";
	struct wt_diff_opts opts = {.sz = sizeof(opts), .before_name = "old", .after_name = "new"};
	char *svg = wt_folded_diff_svg(before, after, &opts);

	EXPECT(svg != NULL);
	if (svg) {
		EXPECT(strstr(svg, "<svg ") != NULL);
		EXPECT(strstr(svg, "old 100 \xc2\xb5s, new 300 \xc2\xb5s") != NULL);
		EXPECT(strstr(svg, "data-metric=\"after\"") != NULL);
		EXPECT(strstr(svg, "1 stack (80 \xc2\xb5s) only in old") != NULL);
	}
	wt_string_free(svg);
	opts.flags = WT_DIFF_WIDTHS_BY_BEFORE;
	svg = wt_folded_diff_svg(before, after, &opts);
	EXPECT(svg != NULL && strstr(svg, "data-metric=\"before\"") != NULL);
	wt_string_free(svg);
	svg = wt_folded_diff_svg(before, after, NULL);
	EXPECT(svg != NULL && strstr(svg, "before 100 \xc2\xb5s, after 300 \xc2\xb5s") != NULL);
	wt_string_free(svg);

	errno = 0;
	EXPECT(wt_folded_diff_svg(before, "app;x 1\nnot folded\n", NULL) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "after is not folded lines: line 2: ") != NULL);
	errno = 0;
	EXPECT(wt_folded_diff_svg(NULL, after, NULL) == NULL && errno == EINVAL);
	opts.flags = 1u << 7;
	errno = 0;
	EXPECT(wt_folded_diff_svg(before, after, &opts) == NULL && errno == EINVAL);
	opts.flags = 0;
	opts.sz = sizeof(size_t);
	errno = 0;
	EXPECT(wt_folded_diff_svg(before, after, &opts) == NULL && errno == EINVAL);
	EXPECT(strstr(wt_last_error(), "sizeof(struct wt_diff_opts)") != NULL);
}

int main(void)
{
	EXPECT(strcmp(wt_version(), EXPECTED_VERSION) == 0);
	EXPECT(strcmp(wt_last_error(), "") == 0);
	options_are_validated();
	errors_before_start();
	null_is_safe();
	folded_diff();
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	return failures ? 1 : 0;
}
