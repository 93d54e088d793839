#!/bin/sh
# Rebuilds the market tests' job module. The .wasm is checked in so
# `go test` needs no clang.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -s job.c -o job.wasm
