/* replay.c - main() for a harness built without libFuzzer (make check):
 * feeds every file named on the command line, and every file in every
 * directory named, to LLVMFuzzerTestOneInput() once. Prints the count;
 * exits 0, or 2 when an argument cannot be read (a crash is a crash). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int one(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		perror(path);
		return 2;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				fclose(f);
				free(buf);
				return 2;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	(*count)++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb)) {
			perror(argv[i]);
			rc = 2;
		} else if (S_ISDIR(sb.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			char **names = NULL;
			size_t nn = 0, k;

			while (d && (de = readdir(d)) != NULL) {
				char **nb;

				if (de->d_name[0] == '.')
					continue;
				nb = realloc(names, (nn + 1) * sizeof(*names));
				if (!nb)
					break;
				names = nb;
				k = strlen(argv[i]) + strlen(de->d_name) + 2;
				names[nn] = malloc(k);
				if (!names[nn])
					break;
				snprintf(names[nn], k, "%s/%s", argv[i], de->d_name);
				nn++;
			}
			if (d)
				closedir(d);
			qsort(names, nn, sizeof(*names), cmp);
			for (k = 0; k < nn; k++) {
				if (one(names[k], &count))
					rc = 2;
				free(names[k]);
			}
			free(names);
		} else if (one(argv[i], &count)) {
			rc = 2;
		}
	}
	printf("%s: %u inputs replayed\n", argv[0], count);
	return rc;
}
