package executor

// Benchmarks for issue 2. Figures and the commands that made them are in
// docs/benchmarks/executor.md. Run them with `make bench-executor`.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/cloudless-network/cloudless/executor/internal/interrupt"
)

const goHello = `package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println("hello from Go", len(os.Args)) }
`

// buildGoHello builds a GOOS=wasip1 hello world (~2.5 MB) into dir.
func buildGoHello(tb testing.TB, dir string) []byte {
	tb.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(goHello), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.21\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, "hello.wasm")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build wasip1: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkCompileGo compiles a Go wasip1 hello world (~2.5 MB):
//   - cold: a fresh Executor on an empty cache dir;
//   - disk-hit-same-process: a fresh Executor on a warm cache dir, in this
//     process (wazero keeps no process-wide cache, so this is the disk path);
//   - disk-hit-new-process: re-execs the test binary, which builds a fresh
//     Executor on the warm cache dir and compiles; "compile-ns/op" is the
//     child's New+Compile time, ns/op the whole child process;
//   - disk-hit-new-process-bare-wazero: the same with bare wazero (same
//     runtime config and cache, no WASI) compiling the instrumented bytes:
//     the floor the executor's hit can reach;
//   - memory-hit: the same Executor again (sha256 + table lookup).
func BenchmarkCompileGo(b *testing.B) {
	dir := b.TempDir()
	module := buildGoHello(b, dir)
	modPath := filepath.Join(dir, "hello.wasm")
	b.Logf("module size %s", FormatSize(uint64(len(module))))
	ctx := context.Background()

	b.Run("cold", func(b *testing.B) {
		var cpu time.Duration
		defer func() { reportCPU(b, cpu) }()
		for b.Loop() {
			b.StopTimer()
			// A fresh dir every time: with -count > 1 the sub-benchmark
			// runs again, and a reused dir would make it a disk hit.
			coldDir, err := os.MkdirTemp(dir, "cold-")
			if err != nil {
				b.Fatal(err)
			}
			e, err := New(WithCacheDir(coldDir))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cpu0 := processCPU()
			if _, err := e.Compile(ctx, module); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU() - cpu0
			b.StopTimer()
			e.Close(ctx)
			b.StartTimer()
		}
	})

	warm := filepath.Join(dir, "warm")
	e, err := New(WithCacheDir(warm))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Compile(ctx, module); err != nil {
		b.Fatal(err)
	}
	e.Close(ctx)

	b.Run("disk-hit-same-process", func(b *testing.B) {
		var cpu time.Duration
		defer func() { reportCPU(b, cpu) }()
		for b.Loop() {
			b.StopTimer()
			e, err := New(WithCacheDir(warm))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			cpu0 := processCPU()
			if _, err := e.Compile(ctx, module); err != nil {
				b.Fatal(err)
			}
			cpu += processCPU() - cpu0
			b.StopTimer()
			e.Close(ctx)
			b.StartTimer()
		}
	})

	// The reference for a new-process hit: bare wazero with the same
	// runtime config on the same cache, compiling the instrumented bytes
	// (what the executor hands wazero), nothing else.
	insPath := filepath.Join(dir, "hello.instrumented.wasm")
	ins, err := interrupt.Instrument(module)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(insPath, ins, 0o600); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"", "bare"} {
		name := "disk-hit-new-process"
		if mode != "" {
			name += "-bare-wazero"
		}
		b.Run(name, func(b *testing.B) {
			path := modPath
			if mode == "bare" {
				path = insPath
			}
			benchHelper(b, warm, path, mode)
		})
	}

	b.Run("memory-hit", func(b *testing.B) {
		e, err := New(WithCacheDir(warm))
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(ctx)
		if _, err := e.Compile(ctx, module); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := e.Compile(ctx, module); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchHelper re-execs the test binary as TestCompileHelperProcess (mode ""
// for the executor, "bare" for bare wazero) on the cache dir and module
// file; "compile-ns/op" is what the child measured.
func benchHelper(b *testing.B, cache, modPath, mode string) {
	var child, childCPU time.Duration
	n := 0
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompileHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EXECUTOR_HELPER_CACHE="+cache, "EXECUTOR_HELPER_MODULE="+modPath,
			"EXECUTOR_HELPER_MODE="+mode)
		if p := os.Getenv("EXECUTOR_HELPER_CPUPROFILE"); p != "" {
			cmd.Args = append(cmd.Args, fmt.Sprintf("-test.cpuprofile=%s.%s%d", p, mode, n))
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("helper: %v\n%s", err, out)
		}
		d, err := parseHelper(out, "compile-ns")
		if err != nil {
			b.Fatalf("helper output: %v\n%s", err, out)
		}
		c, err := parseHelper(out, "compile-cpu-ns")
		if err != nil {
			b.Fatalf("helper output: %v\n%s", err, out)
		}
		child += d
		childCPU += c
		n++
	}
	b.ReportMetric(float64(child.Nanoseconds())/float64(n), "compile-ns/op")
	b.ReportMetric(float64(childCPU.Nanoseconds())/float64(n), "compile-cpu-ns/op")
}

// parseHelper reads the "<key> <ns>" line the helper process printed.
func parseHelper(out []byte, key string) (time.Duration, error) {
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			ns, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Duration(ns), err
		}
	}
	return 0, fmt.Errorf("no %s line", key)
}

// TestCompileHelperProcess is the child of disk-hit-new-process; it does
// nothing unless EXECUTOR_HELPER_CACHE is set.
func TestCompileHelperProcess(t *testing.T) {
	cache, modPath := os.Getenv("EXECUTOR_HELPER_CACHE"), os.Getenv("EXECUTOR_HELPER_MODULE")
	if cache == "" {
		t.Skip("helper process for BenchmarkCompileGo")
	}
	module, err := os.ReadFile(modPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start, startCPU := time.Now(), processCPU()
	if os.Getenv("EXECUTOR_HELPER_MODE") == "bare" {
		c, err := wazero.NewCompilationCacheWithDir(cache)
		if err != nil {
			t.Fatal(err)
		}
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().
			WithMemoryLimitPages(65536).WithCompilationCache(c))
		if _, err := r.CompileModule(ctx, module); err != nil {
			t.Fatal(err)
		}
		d, cpu := time.Since(start), processCPU()-startCPU
		r.Close(ctx)
		fmt.Printf("compile-ns %d\ncompile-cpu-ns %d\n", d.Nanoseconds(), cpu.Nanoseconds())
		return
	}
	e, err := New(WithCacheDir(cache))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Compile(ctx, module); err != nil {
		t.Fatal(err)
	}
	d, c := time.Since(start), processCPU()-startCPU
	if n := e.instrs.Load(); n != 0 {
		t.Fatalf("instrumented %d times on a disk-cache hit", n)
	}
	e.Close(ctx)
	fmt.Printf("compile-ns %d\ncompile-cpu-ns %d\n", d.Nanoseconds(), c.Nanoseconds())
}

// reportCPU adds the CPU time per op as "cpu-ns/op": on a shared machine
// the wall time of a CPU-bound op depends on the other load far more than
// its CPU time does, so compare CPU ratios there (docs/benchmarks/executor.md).
func reportCPU(b *testing.B, total time.Duration) {
	if total > 0 && b.N > 0 {
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// reportPercentiles adds p50 and p99 of ds as custom metrics.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(ds[len(ds)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkStart times a whole Run of a module already compiled: slot,
// fresh instance, WASI setup, _start, teardown, /out listing. "nop" returns
// from _start at once (start to first instruction and back); "c-hello" is a
// C program that prints a line (wasi-libc start-up included).
func BenchmarkStart(b *testing.B) {
	for _, name := range []string{"nop", "tool"} {
		label := map[string]string{"nop": "nop", "tool": "c-hello"}[name]
		b.Run(label, func(b *testing.B) {
			e := newExecutor(b)
			module := fixture(b, name)
			out := b.TempDir()
			if _, err := e.Compile(context.Background(), module); err != nil {
				b.Fatal(err)
			}
			ds := make([]time.Duration, 0, 1024)
			for b.Loop() {
				t0 := time.Now()
				res, err := e.Run(context.Background(), Spec{Module: module, OutDir: out, Deterministic: true})
				ds = append(ds, time.Since(t0))
				if err != nil || res.ExitCode != 0 {
					b.Fatal(err)
				}
			}
			reportPercentiles(b, ds)
		})
	}
}

// BenchmarkRunsParallel runs the trivial module from all goroutines of
// b.RunParallel with MaxConcurrent = GOMAXPROCS; runs/s is the throughput.
func BenchmarkRunsParallel(b *testing.B) {
	e := newExecutor(b)
	module := fixture(b, "nop")
	out := b.TempDir()
	if _, err := e.Compile(context.Background(), module); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Run(context.Background(), Spec{Module: module, OutDir: out, Deterministic: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "runs/s")
}

var (
	shaDataOnce sync.Once
	shaData     []byte
)

// sha256Data is 64 MiB of a fixed pattern.
func sha256Data() []byte {
	shaDataOnce.Do(func() {
		shaData = make([]byte, 64<<20)
		x := uint32(2463534242)
		for i := range shaData {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			shaData[i] = byte(x)
		}
	})
	return shaData
}

// sha256Source is the C source of testdata/sha256.wasm: the example
// function's, the one copy of that program (testdata/build.sh).
var sha256Source = filepath.Join("..", "examples", "functions", "sha256", "sha256.c")

// BenchmarkSHA256 hashes 64 MiB from stdin with the same C source
// (sha256Source) in the sandbox (clang -O2, wasm32-wasi, instrumented
// by internal/interrupt, wazero compiler engine, compile cached) and natively (gcc -O2, a process per op,
// its start included), plus Go's crypto/sha256 for reference (SHA-NI).
func BenchmarkSHA256(b *testing.B) {
	data := sha256Data()
	want := fmt.Sprintf("%x  -\n", sha256.Sum256(data))

	b.Run("wasm", func(b *testing.B) {
		e := newExecutor(b)
		module := fixture(b, "sha256")
		out := b.TempDir()
		if _, err := e.Compile(context.Background(), module); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		cpu0 := processCPU()
		for b.Loop() {
			res, err := e.Run(context.Background(), Spec{Module: module, OutDir: out, Stdin: bytes.NewReader(data),
				Limits: Limits{Timeout: time.Minute, MaxStdin: int64(len(data))}})
			if err != nil || string(res.Stdout) != want {
				b.Fatalf("%v %q", err, res.Stdout)
			}
		}
		reportCPU(b, processCPU()-cpu0)
	})

	// The same module, not instrumented, in a bare wazero runtime WITHOUT
	// WithCloseOnContextDone: no deadline can stop it, so the executor never
	// runs like this; the difference to "wasm" is what the executor's stop
	// checks (internal/interrupt) cost.
	b.Run("wasm-bare-wazero-no-deadline", func(b *testing.B) {
		ctx := context.Background()
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
		defer r.Close(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, r)
		cm, err := r.CompileModule(ctx, fixture(b, "sha256"))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		cpu0 := processCPU()
		defer func() { reportCPU(b, processCPU()-cpu0) }()
		for b.Loop() {
			var out bytes.Buffer
			_, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").
				WithStdin(bytes.NewReader(data)).WithStdout(&out))
			if err != nil || out.String() != want {
				b.Fatalf("%v %q", err, out.String())
			}
		}
	})

	b.Run("native-gcc", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "sha256")
		if out, err := exec.Command("gcc", "-O2", "-o", bin, sha256Source).CombinedOutput(); err != nil {
			b.Skipf("gcc: %v\n%s", err, out)
		}
		b.SetBytes(int64(len(data)))
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command(bin)
			cmd.Stdin = bytes.NewReader(data)
			got, err := cmd.Output()
			if err != nil || string(got) != want {
				b.Fatalf("%v %q", err, got)
			}
			// The child's CPU, plus this process's for feeding the pipe
			// would be fairer still; the child's alone favours native.
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		reportCPU(b, cpu)
	})

	b.Run("go-crypto-sha256", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
}
