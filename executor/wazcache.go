package executor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
)

// removeWazeroEntry removes wazero's on-disk compilation cache entry for
// the module bytes wasm, as compiled by a runtime with (ensureTermination)
// or without WithCloseOnContextDone, and reports whether it found one.
//
// Why: wazero v1.12 returns an error from CompileModule when its cache file
// for a module is unreadable (truncated, checksum mismatch, bad header) and
// leaves the file in place, so every later compile of that module — in
// this process and after a restart — fails the same way. The executor
// would then run the module on the slow fallback runtime forever. Removing
// the entry lets the next CompileModule compile afresh and write a good one.
//
// wazero names the file (internal/filecache, engine_cache.go fileCacheKey)
//
//	<dir>/wazero-<version>-<GOARCH>-<GOOS>/hex(sha256(id || "WAZEVO" || le64(cpu)))
//	id = sha256(wasm || ensureTermination)   (no function listeners)
//
// where cpu is wazero's CPU feature bits for this machine (a few low bits:
// SSE4.1, BMI1, ABM on amd64). Those are not exported, so every value below
// 1<<maxCPUBits is tried: a name that exists is this module's entry (the
// names are sha256 outputs), and a wrong guess removes nothing. If a future
// wazero changes the scheme, nothing is found and the caller keeps wazero's
// error (the module then takes the fallback path, as before).
func removeWazeroEntry(cacheDir string, wasm []byte, ensureTermination bool) bool {
	const maxCPUBits = 8
	dirs, _ := filepath.Glob(filepath.Join(cacheDir, "wazero-*-"+runtime.GOARCH+"-"+runtime.GOOS))
	if len(dirs) == 0 {
		return false
	}
	h := sha256.New()
	h.Write(wasm)
	if ensureTermination {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	id := h.Sum(nil)
	removed := false
	for cpu := uint64(0); cpu < 1<<maxCPUBits; cpu++ {
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], cpu)
		k := sha256.New()
		k.Write(id)
		k.Write([]byte("WAZEVO"))
		k.Write(le[:])
		name := hex.EncodeToString(k.Sum(nil))
		for _, d := range dirs {
			if os.Remove(filepath.Join(d, name)) == nil {
				removed = true
			}
		}
	}
	return removed
}
