// tool: one small WASI program with a sub-command per test case.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int copy(FILE *in) {
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, stdout);
	return ferror(in) ? 1 : 0;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		puts("hello, world");
		return 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "exit") && argc > 2) return atoi(argv[2]);
	if (!strcmp(cmd, "args")) {
		for (int i = 0; i < argc; i++) printf("%d=%s\n", i, argv[i]);
		return 0;
	}
	if (!strcmp(cmd, "env")) {
		for (char **e = environ; *e; e++) puts(*e);
		return 0;
	}
	if (!strcmp(cmd, "cat")) return copy(stdin);
	if (!strcmp(cmd, "count")) {
		char buf[65536];
		long long total = 0;
		ssize_t n;
		while ((n = read(0, buf, sizeof buf)) > 0) total += n;
		printf("%lld\n", total);
		return n < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "read") && argc > 2) {
		FILE *f = fopen(argv[2], "r");
		if (!f) {
			printf("open %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		int rc = copy(f);
		fclose(f);
		return rc;
	}
	if (!strcmp(cmd, "write") && argc > 3) {
		FILE *f = fopen(argv[2], "w");
		if (!f) {
			printf("open %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		fputs(argv[3], f);
		return fclose(f) ? 1 : 0;
	}
	if (!strcmp(cmd, "mkdir") && argc > 2) {
		extern int mkdir(const char *, unsigned);
		return mkdir(argv[2], 0755) ? 1 : 0;
	}
	if (!strcmp(cmd, "symlink") && argc > 3) {
		if (symlink(argv[2], argv[3])) {
			printf("symlink: %s\n", strerror(errno));
			return 1;
		}
		puts("symlink ok");
		return 0;
	}
	if (!strcmp(cmd, "time")) {
		struct timespec rt, mono;
		unsigned char rnd[16];
		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (getentropy(rnd, sizeof rnd)) return 2;
		printf("real=%lld.%09ld mono=%lld.%09ld rand=", (long long)rt.tv_sec, rt.tv_nsec,
		       (long long)mono.tv_sec, mono.tv_nsec);
		for (int i = 0; i < 16; i++) printf("%02x", rnd[i]);
		printf(" rand()=%d\n", rand());
		struct timespec ts = {0, 1000000}; // 1 ms
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		printf("after sleep mono=%lld.%09ld\n", (long long)mono.tv_sec, mono.tv_nsec);
		return 0;
	}
	if (!strcmp(cmd, "flood")) {
		static char buf[65536];
		memset(buf, 'x', sizeof buf);
		for (;;) write(1, buf, sizeof buf); // ignores errors: the sandbox must stop it
	}
	if (!strcmp(cmd, "malloc") && argc > 2) {
		size_t mib = (size_t)atol(argv[2]);
		char *p = malloc(mib << 20);
		if (!p) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		// Touch every page through a volatile pointer, or clang -O2 elides
		// the whole allocation.
		for (size_t i = 0; i < (mib << 20); i += 4096) ((volatile char *)p)[i] = 1;
		puts("ok");
		return 0;
	}
	if (!strcmp(cmd, "ls") && argc > 2) {
		DIR *d = opendir(argv[2]);
		if (!d) {
			printf("opendir %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d))) printf("%s\n", e->d_name);
		closedir(d);
		return 0;
	}
	fprintf(stderr, "unknown command %s\n", cmd);
	return 64;
}
