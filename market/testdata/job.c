// job.c: the market tests' job. It prints its arguments, copies stdin to
// stdout with a running checksum, lists /in (an input mount) when present,
// writes /out/sum.txt, and exits with the code given as "exit=N".
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	int code = 0;
	printf("args:");
	for (int i = 1; i < argc; i++) {
		printf(" %s", argv[i]);
		if (strncmp(argv[i], "exit=", 5) == 0) code = atoi(argv[i] + 5);
	}
	printf("\n");
	unsigned long sum = 0;
	int c;
	while ((c = getchar()) != EOF) {
		sum = sum * 31 + (unsigned char)c;
		putchar(c);
	}
	DIR *d = opendir("/in");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] != '.') printf("in: %s\n", e->d_name);
		}
		closedir(d);
	}
	fprintf(stderr, "sum %lu\n", sum);
	FILE *f = fopen("/out/sum.txt", "w");
	if (f) {
		fprintf(f, "%lu\n", sum);
		fclose(f);
	}
	return code;
}
