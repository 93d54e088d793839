// files: a test fixture for `cloudless exec`, built with
// clang --target=wasm32-wasi. Each subcommand exercises one thing the
// sandbox gives a module:
//
//   files cat              copy stdin to stdout
//   files copy SRC DST     copy a file (e.g. from a --dir mount to /out)
//   files write PATH TEXT  create PATH with TEXT (fails in a read-only mount)
//   files env NAME         print the variable NAME, or exit 3 if unset
//   files exit N           exit with status N
//   files clock            print the wall-clock seconds and 8 random bytes
//   files spin             print "spinning" and loop forever
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int fail(const char *what) {
	fprintf(stderr, "files: %s: %s\n", what, strerror(errno));
	return 1;
}

static int copy(FILE *in, FILE *out) {
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
		if (fwrite(buf, 1, n, out) != n) {
			return fail("write");
		}
	}
	return ferror(in) ? fail("read") : 0;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: files cat|copy|write|env|exit|clock ...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "cat") == 0) {
		return copy(stdin, stdout);
	}
	if (strcmp(cmd, "copy") == 0 && argc == 4) {
		FILE *in = fopen(argv[2], "rb");
		if (in == NULL) {
			return fail(argv[2]);
		}
		FILE *out = fopen(argv[3], "wb");
		if (out == NULL) {
			return fail(argv[3]);
		}
		int rc = copy(in, out);
		fclose(in);
		if (fclose(out) != 0) {
			return fail(argv[3]);
		}
		return rc;
	}
	if (strcmp(cmd, "write") == 0 && argc == 4) {
		FILE *out = fopen(argv[2], "wb");
		if (out == NULL) {
			return fail(argv[2]);
		}
		fputs(argv[3], out);
		return fclose(out) == 0 ? 0 : fail(argv[2]);
	}
	if (strcmp(cmd, "env") == 0 && argc == 3) {
		const char *v = getenv(argv[2]);
		if (v == NULL) {
			return 3;
		}
		printf("%s\n", v);
		return 0;
	}
	if (strcmp(cmd, "exit") == 0 && argc == 3) {
		exit(atoi(argv[2]));
	}
	if (strcmp(cmd, "clock") == 0) {
		unsigned char r[8];
		if (getentropy(r, sizeof r) != 0) {
			return fail("getentropy");
		}
		printf("%lld ", (long long)time(NULL));
		for (int i = 0; i < 8; i++) {
			printf("%02x", r[i]);
		}
		printf("\n");
		return 0;
	}
	if (strcmp(cmd, "spin") == 0) {
		printf("spinning\n");
		fflush(stdout);
		volatile unsigned n = 0;
		for (;;) {
			n++;
		}
	}
	fprintf(stderr, "files: bad usage\n");
	return 2;
}
