// spin: a compute-bound WASI module for the end-to-end tests. It mixes a
// 64-bit state N million times (N = argv[1], default 1) and prints the
// result, so its run time is set by its argument and its output is the same
// on every provider (no clock, no randomness).
//
//   clang --target=wasm32-wasi --sysroot=/usr -O2 spin.c -o spin.wasm
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  if (n < 0) n = 0;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (long i = 0; i < n * 1000000L; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  printf("spin %ld %016llx\n", n, (unsigned long long)x);
  return 0;
}
