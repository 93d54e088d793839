package executor

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero"
)

// HashModule returns the Hash of module: what Compile returns and what
// Spec.ModuleHash must be. A caller that runs the same bytes many times
// (the trigger's local invoker) computes it once when it loads them.
func HashModule(module []byte) Hash { return sha256.Sum256(module) }

// moduleHash returns the key of spec.Module in the compile table.
//
// Without Spec.ModuleHash it is sha256 of the bytes. With it, the claimed
// hash is trusted only when the bytes are proved to be the ones compiled
// under it: either equal, byte for byte, to the private copy the entry
// kept the first time (a memcmp, ≈ 40× cheaper than sha256), or hashed
// here and found equal. A claim that does not match the bytes is a
// *HostError, so a wrong hash can never run another module than the bytes
// given (docs/rationale/executor.md, "Why does a caller-supplied module
// hash cost a memcmp, not nothing?").
func (e *Executor) moduleHash(spec *Spec) (h Hash, keep []byte, err error) {
	if spec.ModuleHash == (Hash{}) {
		return HashModule(spec.Module), nil, nil
	}
	e.mu.Lock()
	var src []byte
	if en := e.modules[spec.ModuleHash]; en != nil {
		src = en.src
	}
	e.mu.Unlock()
	if src != nil && bytes.Equal(src, spec.Module) {
		return spec.ModuleHash, nil, nil
	}
	// Hash a private copy, so what is kept (and compiled, if this run
	// compiles) is exactly what was hashed, whatever the caller does with
	// its slice afterwards.
	keep = bytes.Clone(spec.Module)
	if h = HashModule(keep); h != spec.ModuleHash {
		return h, nil, &HostError{Op: "module hash", Err: fmt.Errorf(
			"Spec.ModuleHash %.12s… is not the module's hash %.12s…", spec.ModuleHash, h)}
	}
	return h, keep, nil
}

// keepSource gives en src, a private copy of the bytes compiled under its
// hash, so later runs that name the hash (Spec.ModuleHash) prove their
// bytes with a comparison instead of sha256. Only entries asked for by
// hash keep one: it costs the module's size in memory for as long as the
// entry is in the table (WithMaxCompiled bounds the entries).
func (e *Executor) keepSource(en *entry, src []byte) {
	e.mu.Lock()
	if en.src == nil {
		en.src = src
	}
	e.mu.Unlock()
}

// envCache keeps, per exact environment seen twice (and per base: det or
// sys), a ModuleConfig holding just the base and that environment, so a
// run with an environment seen before adds its per-run parts (args,
// stdio, clocks, mounts) to it: 3–8 config copies instead of one per
// variable. An environment seen once is only remembered by its key, so
// requests that all differ (a query string each) pay one map lookup more
// than without the cache, not a second build. A cached config is never
// given another WithEnv: wazero's copies share the environment's backing
// array, so that would overwrite the variables of other runs
// (docs/rationale/executor.md, "Why is only a whole environment cached?").
type envCache struct {
	mu    sync.Mutex
	cfgs  map[string]wazero.ModuleConfig // nil value: seen once
	order []string                       // insertion order, oldest first
}

// envCacheSize bounds the environments remembered (FIFO).
const envCacheSize = 256

// config returns base with env added (sorted by key) when env was seen
// before, else nil; keys are env's keys, sorted, for the caller to add
// them last. base must hold no environment and be the same value for the
// same det.
func (c *envCache) config(base wazero.ModuleConfig, det bool, env map[string]string) (cached wazero.ModuleConfig, keys []string) {
	if len(env) == 0 {
		return nil, nil
	}
	keys = sortedKeys(env)
	n := 1
	for k, v := range env {
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	// Length-prefixed, so no two environments share a key, whatever bytes
	// (NUL, '=') they hold before wazero validates them.
	b := make([]byte, 1, n)
	if det {
		b[0] = 'd'
	}
	for _, k := range keys {
		v := env[k]
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	c.mu.Lock()
	cfg, seen := c.cfgs[string(b)]
	c.mu.Unlock()
	if cfg != nil {
		return cfg, keys
	}
	key := string(b)
	if !seen {
		c.remember(key, nil)
		return nil, keys
	}
	cfg = withEnv(base, keys, env)
	c.remember(key, cfg)
	return cfg, keys
}

func (c *envCache) remember(key string, cfg wazero.ModuleConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfgs == nil {
		c.cfgs = make(map[string]wazero.ModuleConfig)
	}
	if _, ok := c.cfgs[key]; !ok {
		c.order = append(c.order, key)
		for len(c.order) > envCacheSize {
			delete(c.cfgs, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.cfgs[key] = cfg
}

// withEnv adds env to cfg in the order of keys (sorted). wazero v1.12 has
// no way to set a whole environment at once: each WithEnv copies the
// config, its map of keys included, so n variables cost n copies of up to
// n keys. cfg must hold no environment yet (a WithEnv on a config another
// run also extends would share, and overwrite, its environment's backing
// array).
func withEnv(cfg wazero.ModuleConfig, keys []string, env map[string]string) wazero.ModuleConfig {
	for _, k := range keys {
		cfg = cfg.WithEnv(k, env[k])
	}
	return cfg
}

// sortedKeys returns env's keys, sorted.
func sortedKeys(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
