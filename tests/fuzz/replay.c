/* SPDX-License-Identifier: MIT */
/*
 * Replays files (or every file in directories) through a fuzz target's
 * LLVMFuzzerTestOneInput, without libFuzzer: how ctest runs the seed corpora
 * and the regression inputs of past crashes in every build (with the
 * sanitizers in CI's second pass).  Exit 0 when every input ran; a crash or a
 * failed invariant aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/array.h"
#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int err = 0;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		err = -errno;
		goto out;
	}
	/* A copy of exactly len bytes, so ASan catches a read past the end. */
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		err = -EIO;
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)len);
out:
	if (err)
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-err));
	free(buf);
	if (f)
		fclose(f);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays a directory's regular files in name order; returns how many. */
static int replay_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t count = 0, cap = 0;
	int err = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (array_grow(&names, &cap, count + 1, sizeof(*names))) {
			err = -ENOMEM;
			goto out;
		}
		if (!(names[count] = malloc(strlen(dir) + strlen(de->d_name) + 2))) {
			err = -ENOMEM;
			goto out;
		}
		sprintf(names[count++], "%s/%s", dir, de->d_name);
	}
	if (count)
		qsort(names, count, sizeof(*names), cmp_names);
	for (size_t i = 0; i < count && !err; i++) {
		struct stat st;
		if (stat(names[i], &st) || !S_ISREG(st.st_mode))
			continue;
		err = replay_file(names[i]);
		++*n;
	}
out:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	size_t n = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int err = stat(argv[i], &st) ? -errno : 0;
		if (!err && S_ISDIR(st.st_mode))
			err = replay_dir(argv[i], &n);
		else if (!err && !(err = replay_file(argv[i])))
			n++;
		if (err) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	if (!n) {
		fprintf(stderr, "no inputs replayed\n");
		return 1;
	}
	printf("%zu inputs replayed\n", n);
	return 0;
}
