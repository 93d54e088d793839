#!/bin/sh
# Rebuilds the executor's test fixtures: every *.wat with wat2wasm, every C
# program with clang --target=wasm32-wasi. sha256.wasm is built from the
# example function's source (examples/functions/sha256/sha256.c), the one
# copy of that program; BenchmarkSHA256 builds the same file natively. The built .wasm files are checked
# in, so `go test` does not need these tools; run this (or
# `make executor-fixtures`) after editing a source.
set -eu
cd "$(dirname "$0")"
for w in *.wat; do
	wat2wasm --enable-all --debug-names "$w" -o "${w%.wat}.wasm"
done
for c in tool.c ../../examples/functions/sha256/sha256.c; do
	out=$(basename "${c%.c}").wasm
	clang --target=wasm32-wasi --sysroot=/usr -O2 -s "$c" -o "$out"
done
