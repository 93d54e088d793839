#!/usr/bin/env bash
# Installs what building and testing WebAssembly modules needs, idempotently:
# clang, lld (wasm-ld), wasi-libc, the wasm32 compiler-rt builtins and wabt
# (wat2wasm), all from Debian. Fast when everything is present: it only runs
# `command -v` and a few file checks. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v wasm-ld >/dev/null 2>&1 || missing+=(lld)
command -v wat2wasm >/dev/null 2>&1 || missing+=(wabt)
[ -f /usr/include/wasm32-wasi/stdio.h ] && [ -f /usr/lib/wasm32-wasi/libc.a ] || missing+=(wasi-libc)
# clang needs the wasm32 builtins (libclang_rt.builtins-wasm32.a) of its own
# major version to link; Debian ships them as libclang-rt-<N>-dev-wasm32.
if command -v clang >/dev/null 2>&1; then
  if ! ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; then
    major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    missing+=("libclang-rt-${major}-dev-wasm32")
  fi
else
  missing+=(libclang-rt-dev-wasm32)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-wasm-tools: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-wasm-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

# Check the result the way the build uses it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int main(void){return 0;}\n' >"$tmp/t.c"
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$tmp/t.wasm" "$tmp/t.c"
printf '(module)\n' >"$tmp/t.wat"
wat2wasm -o "$tmp/t2.wasm" "$tmp/t.wat"
