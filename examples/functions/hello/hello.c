// hello: the smallest useful cloudless function.
//
//   cloudless exec build/examples/hello.wasm -- Ada
//   Hello, Ada! (from a WebAssembly sandbox)
//
// It greets its first argument (default "world") and, if the job sets
// GREETING in its environment, uses that word instead of "Hello". It shows
// what a function gets from the sandbox: arguments, environment, stdout.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	const char *name = argc > 1 ? argv[1] : "world";
	const char *greeting = getenv("GREETING");
	if (greeting == NULL || greeting[0] == '\0') {
		greeting = "Hello";
	}
	printf("%s, %s! (from a WebAssembly sandbox)\n", greeting, name);
	return 0;
}
