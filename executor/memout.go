package executor

import "github.com/cloudless-network/cloudless/executor/internal/wasmbin"

// fileFreeCalls are the WASI calls that can neither name a file nor find
// a preopened directory: arguments, environment, clocks, randomness,
// exit, yield, and reading or writing a descriptor the guest already
// holds. A guest that imports nothing else has no way to learn that /out
// exists: it can reach the directory only by guessing its descriptor
// number (3), and reading or writing it fails with or without a /out
// (only the error number differs: EISDIR with a /out, EBADF without).
var fileFreeCalls = map[string]bool{
	"args_get": true, "args_sizes_get": true,
	"environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true,
	"random_get": true, "proc_exit": true, "proc_raise": true, "sched_yield": true,
	"fd_read": true, "fd_write": true,
}

// NeedsFiles reports whether module imports a WASI call that can find or
// use a directory (fd_prestat_get, path_open, fd_readdir, ...). A module
// that does not can run with Spec.NoOut: it cannot create a file in /out,
// so it produces the output it would produce with one, unless it guesses
// /out's descriptor number and reports the error number it gets (see
// fileFreeCalls). Callers that keep a job's output in memory (the market's
// provider and mediators, with one rule for all) use it to skip the /out
// directory on disk. An unparsable module, or one importing anything else,
// needs files.
func NeedsFiles(module []byte) bool {
	info, err := wasmbin.Parse(module)
	if err != nil {
		return true
	}
	for _, imp := range info.Imports {
		if imp.Kind != wasmbin.KindFunc {
			continue // memories, tables, globals name no file
		}
		if imp.Module != wasiModule || !fileFreeCalls[imp.Name] {
			return true
		}
	}
	return false
}
