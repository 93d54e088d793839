/* echo: a WAGI (CGI) function for the gateway tests and benchmarks. It
 * answers "METHOD PATH_INFO?QUERY_STRING\n" followed by the request body.
 * The query selects behaviors: status=418 sets the status, exit=3 exits
 * with code 3 printing nothing, hello answers the fixed bytes
 * "hello, world\n" only (the benchmarks' payload); cat=PATH answers the
 * contents of the file PATH (a mounted input). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	const char *m = getenv("REQUEST_METHOD");
	const char *p = getenv("PATH_INFO");
	const char *q = getenv("QUERY_STRING");
	if (!m) m = "";
	if (!p) p = "";
	if (!q) q = "";
	if (strstr(q, "exit=3")) return 3;
	if (strcmp(q, "hello") == 0) {
		fputs("Content-Type: text/plain\r\n\r\nhello, world\n", stdout);
		return 0;
	}
	if (strncmp(q, "cat=", 4) == 0) {
		FILE *f = fopen(q + 4, "rb");
		if (!f) {
			fputs("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such file\n", stdout);
			return 0;
		}
		fputs("Content-Type: application/octet-stream\r\n\r\n", stdout);
		char b[4096];
		size_t k;
		while ((k = fread(b, 1, sizeof b, f)) > 0) fwrite(b, 1, k, stdout);
		fclose(f);
		return 0;
	}
	fputs("Content-Type: text/plain\r\nX-Echo: 1\r\n", stdout);
	if (strstr(q, "status=418")) fputs("Status: 418 I'm a teapot\r\n", stdout);
	fputs("\r\n", stdout);
	printf("%s %s?%s\n", m, p, q);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
	return 0;
}
