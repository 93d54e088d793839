#!/bin/sh
# Rebuilds the trigger's test functions: every *.wat with wat2wasm, echo.c
# with clang --target=wasm32-wasi. The .wasm files are checked in, so
# `go test` needs neither tool; run this (or `make trigger-fixtures`) after
# editing a source.
set -eu
cd "$(dirname "$0")"
for w in *.wat; do
	wat2wasm --enable-all "$w" -o "${w%.wat}.wasm"
done
clang --target=wasm32-wasi --sysroot=/usr -O2 -s echo.c -o echo.wasm
