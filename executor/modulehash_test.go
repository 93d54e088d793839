package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Spec.ModuleHash: a right claim runs the module without compiling it
// again; a claim that does not match the bytes fails with ErrHost and runs
// nothing, whether the claimed hash is unknown, another compiled module's,
// or the hash the same slice had before the caller changed it.
func TestRunModuleHash(t *testing.T) {
	e := newExecutor(t)
	ctx := context.Background()
	tool := fixture(t, "tool")
	nop := fixture(t, "nop")
	th, nh := HashModule(tool), HashModule(nop)
	if h, err := e.Compile(ctx, tool); err != nil || h != th {
		t.Fatalf("Compile: %s, %v; want %s", h, err, th)
	}

	for i := range 3 { // first: hashed and kept; then: compared with the copy
		res, err := e.Run(ctx, Spec{Module: tool, ModuleHash: th, NoOut: true})
		if err != nil || string(res.Stdout) != "hello, world\n" {
			t.Fatalf("run %d with the right hash: %q, %v", i, res.Stdout, err)
		}
	}
	if _, err := e.Run(ctx, Spec{Module: nop, ModuleHash: nh, NoOut: true}); err != nil {
		t.Fatal(err)
	}
	if n := e.compiles.Load(); n != 2 {
		t.Fatalf("%d compiles, want 2 (tool, nop)", n)
	}

	mutated := bytes.Clone(tool)
	res, err := e.Run(ctx, Spec{Module: mutated, ModuleHash: th, NoOut: true})
	if err != nil || string(res.Stdout) != "hello, world\n" {
		t.Fatalf("run of a caller's copy: %q, %v", res.Stdout, err)
	}
	mutated[len(mutated)-1] ^= 0xff // the caller changes its slice in place

	for _, tc := range []struct {
		name   string
		module []byte
		claim  Hash
	}{
		{"unknown hash", tool, HashModule([]byte("not a module"))},
		{"another compiled module's hash", tool, nh},
		{"another module's bytes under a known hash", nop, th},
		{"same slice changed after a run", mutated, th},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := e.Run(ctx, Spec{Module: tc.module, ModuleHash: tc.claim, NoOut: true})
			if !errors.Is(err, ErrHost) || res != nil {
				t.Fatalf("got %v, %v; want ErrHost and no result", res, err)
			}
			if !strings.Contains(err.Error(), "is not the module's hash") {
				t.Fatalf("error %q does not say why", err)
			}
		})
	}
	if n := e.compiles.Load(); n != 2 {
		t.Fatalf("%d compiles after refused claims, want still 2", n)
	}
}

// The kept copy goes with its entry: an evicted module named by hash is
// hashed, compiled and kept again.
func TestRunModuleHashEvicted(t *testing.T) {
	e := newExecutor(t, WithMaxCompiled(1))
	ctx := context.Background()
	tool, nop := fixture(t, "tool"), fixture(t, "nop")
	for i, m := range [][]byte{tool, nop, tool} {
		if _, err := e.Run(ctx, Spec{Module: m, ModuleHash: HashModule(m), NoOut: true}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if n := e.compiles.Load(); n != 3 {
		t.Fatalf("%d compiles, want 3", n)
	}
	if _, err := e.Run(ctx, Spec{Module: nop, ModuleHash: HashModule(tool), NoOut: true}); !errors.Is(err, ErrHost) {
		t.Fatalf("nop under tool's hash: %v, want ErrHost", err)
	}
}

// Concurrent runs share the executor's base ModuleConfig and its WASI
// host module, whose environ_get reads each run's environment from the
// run's context; each must see exactly its own environment (sorted),
// deterministic or not, with stdin and mounts or without.
func TestRunEnvConcurrent(t *testing.T) {
	e := newExecutor(t, WithMaxConcurrent(4))
	tool := fixture(t, "tool")
	th := HashModule(tool)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Go(func() {
			env := map[string]string{"GATEWAY_INTERFACE": "CGI/1.1", "QUERY_STRING": fmt.Sprintf("g=%d", g%5)}
			for i := range g % 3 {
				env[fmt.Sprintf("HTTP_X_%d", i)] = fmt.Sprint(g * i)
			}
			spec := Spec{Module: tool, ModuleHash: th, Args: []string{"env"}, Env: env,
				NoOut: g%2 == 0, Deterministic: g%3 == 0}
			if g%4 == 1 {
				spec.Stdin = strings.NewReader("in")
				spec.Mounts = []Mount{{HostPath: dir, GuestPath: "/data"}}
			}
			var want []string
			for k, v := range env {
				want = append(want, k+"="+v)
			}
			slices.Sort(want)
			for i := range 3 {
				res, err := e.Run(context.Background(), spec)
				if err != nil {
					errs <- err
					return
				}
				if got := strings.TrimSpace(string(res.Stdout)); got != strings.Join(want, "\n") {
					errs <- fmt.Errorf("goroutine %d, run %d: env\n%s\nwant\n%s", g, i, got, strings.Join(want, "\n"))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Two environments whose variables would concatenate to the same bytes
// are two cache entries: the valid one runs with its own variables even
// after the invalid one (NUL in a value, refused by wazero) was cached.
func TestRunEnvCacheKey(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	bad := map[string]string{"A": "x\x00B\x00y"}
	for range 3 {
		if _, err := e.Run(context.Background(), Spec{Module: tool, Args: []string{"env"}, Env: bad, NoOut: true}); err == nil {
			t.Fatal("NUL in a value: no error")
		}
	}
	for range 3 {
		res, err := e.Run(context.Background(), Spec{Module: tool, Args: []string{"env"}, NoOut: true,
			Env: map[string]string{"A": "x", "B": "y"}})
		if err != nil || string(res.Stdout) != "A=x\nB=y\n" {
			t.Fatalf("%q, %v", res.Stdout, err)
		}
	}
}

// BenchmarkStartCGI is BenchmarkStart's C module run the way the trigger
// gateway runs a function: NoOut and 22 CGI-like environment variables.
// "sha256": the executor hashes the module; "hash-given": Spec.ModuleHash
// (both with the same environment every run); "unique-env": hash given,
// QUERY_STRING differs on every run (before the executor's own
// environ_get, a miss of the environment cache every time; now the same
// cost as a repeated one).
func BenchmarkStartCGI(b *testing.B) {
	env := map[string]string{}
	for _, k := range []string{"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "GATEWAY_INTERFACE",
		"HTTP_ACCEPT_ENCODING", "HTTP_HOST", "HTTP_USER_AGENT", "PATH_INFO", "PATH_TRANSLATED",
		"QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER", "REQUEST_METHOD", "SCRIPT_NAME",
		"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "X_FULL_URL",
		"X_MATCHED_ROUTE", "X_RAW_PATH_INFO"} {
		env[k] = strings.ToLower(k)
	}
	for _, name := range []string{"sha256", "hash-given", "unique-env"} {
		b.Run(name, func(b *testing.B) {
			e := newExecutor(b)
			module := fixture(b, "tool")
			spec := Spec{Module: module, Env: env, NoOut: true}
			if name != "sha256" {
				spec.ModuleHash = HashModule(module)
			}
			ds := make([]time.Duration, 0, 1024)
			n := 0
			for b.Loop() {
				if name == "unique-env" {
					n++
					spec.Env = maps.Clone(env)
					spec.Env["QUERY_STRING"] = strconv.Itoa(n)
				}
				t0 := time.Now()
				res, err := e.Run(context.Background(), spec)
				ds = append(ds, time.Since(t0))
				if err != nil || res.ExitCode != 0 {
					b.Fatal(err)
				}
			}
			reportPercentiles(b, ds)
		})
	}
}
