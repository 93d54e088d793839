#!/usr/bin/env bash
# The local demo (`make demo-local`, and `make demo` until the marketplace
# demo replaces it): runs each example function through `cloudless exec`, the
# sandbox a provider runs jobs in, and prints what ran, its output and how
# long it took. Then it shows the sandbox stopping a module at its limits.
#
#   examples/demo-local.sh [CLOUDLESS_BIN] [EXAMPLES_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${1:-bin/cloudless}"
ex="${2:-build/examples}"
work="build/demo"
rm -rf "$work"
mkdir -p "$work"
# A throwaway repo keeps the compile cache of the demo apart from ~/.cloudless.
export CLOUDLESS_REPO="$work/repo"
mkdir -p "$CLOUDLESS_REPO"

bold=""; dim=""; reset=""
if [ -t 1 ]; then bold=$'\e[1m'; dim=$'\e[2m'; reset=$'\e[0m'; fi

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# step TITLE -- ARGS...: prints the command, runs it, prints exit code and time.
step() {
  local title="$1"; shift
  echo
  echo "${bold}==> ${title}${reset}"
  echo "${dim}\$ cloudless $*${reset}"
  local t0 rc
  t0=$(date +%s%N)
  "$bin" "$@" 2>&1 | sed 's/^/    /'
  rc=${PIPESTATUS[0]}
  echo "${dim}    exit ${rc} · $(ms "$t0") ms (process start, compile or cache hit, run)${reset}"
}

size() { du -k "$1" | cut -f1; }

echo "${bold}cloudless local demo${reset}: example functions in the WebAssembly sandbox"
echo "${dim}modules in ${ex}; compile cache in ${CLOUDLESS_REPO}/wasm-cache${reset}"

step "hello (C, $(size "$ex/hello.wasm") KiB): arguments and environment" \
  exec --env GREETING=Hello "$ex/hello.wasm" -- cloudless

head -c $((8 << 20)) /dev/zero | tr '\0' 'x' > "$work/8MiB.bin"
step "sha256 (C): digest of 8 MiB from stdin" \
  exec --timeout 30s --stdin "$work/8MiB.bin" "$ex/sha256.wasm"
echo "${dim}    native sha256sum says: $(sha256sum < "$work/8MiB.bin")${reset}"

text=examples/data/two-cities.txt
step "wordfreq (Go, $(size "$ex/wordfreq.wasm") KiB): top words of a Dickens paragraph (first run compiles)" \
  exec --timeout 30s --stdin "$text" "$ex/wordfreq.wasm" -- -n 5
step "wordfreq again: the compiled module comes from the cache" \
  exec --stdin "$text" "$ex/wordfreq.wasm" -- -n 5

step "csvagg (Go): group-by over a mounted read-only directory, report to /out" \
  exec --timeout 30s --dir examples/data/sales:/data --out "$work/report" \
  "$ex/csvagg.wasm" -- -by region -sum units,revenue /data
echo "${dim}    $work/report/report.csv:${reset}"
sed 's/^/    /' "$work/report/report.csv"

# A small PPM test card: 96×64, color bars.
{
  printf 'P6\n96 64\n255\n'
  for _ in $(seq 64); do
    for c in '\377\0\0' '\0\377\0' '\0\0\377' '\377\377\0' '\0\377\377' '\377\0\377'; do
      for _ in $(seq 16); do printf "$c"; done
    done
  done
} > "$work/bars.ppm"
step "thumbnail (Go): shrink a PPM test card to 24 px wide, in gray" \
  exec --timeout 30s --memory 128MiB --dir "$work:/in" --out "$work/thumbs" \
  "$ex/thumbnail.wasm" -- -width 24 -gray /in/bars.ppm

echo
echo "${bold}The sandbox enforces limits${reset} (exit code 125, one line naming the cause):"
step "hello with a 1 KiB module size limit" \
  exec --max-module 1KiB "$ex/hello.wasm"
step "wordfreq with 24 bytes of output allowed" \
  exec --max-output 24B --stdin "$text" "$ex/wordfreq.wasm"
step "wordfreq in 1 MiB of memory (a Go program needs more)" \
  exec --memory 1MiB --stdin "$text" "$ex/wordfreq.wasm"
step "sha256 may read at most 1 MiB of stdin" \
  exec --max-stdin 1MiB --stdin "$work/8MiB.bin" "$ex/sha256.wasm"
head -c $((64 << 20)) /dev/zero > "$work/64MiB.bin"
step "sha256 of 64 MiB with a 10 ms deadline" \
  exec --timeout 10ms --stdin "$work/64MiB.bin" "$ex/sha256.wasm"

echo
echo "Done. Try: $bin exec --help"
