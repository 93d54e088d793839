package executor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture reads testdata/name.wasm (built by testdata/build.sh).
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		tb.Fatalf("fixture %s: %v (run testdata/build.sh)", name, err)
	}
	return b
}

// newExecutor builds an Executor closed at cleanup; cleanup also checks that
// no run slot or memory reservation leaked.
func newExecutor(tb testing.TB, opts ...Option) *Executor {
	tb.Helper()
	e, err := New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c := e.Capacity()
		if c.Running != 0 || c.MemoryReserved != 0 {
			tb.Errorf("leak at cleanup: %+v", c)
		}
		if err := e.Close(context.Background()); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return e
}

func run(tb testing.TB, e *Executor, spec Spec) (*Result, error) {
	tb.Helper()
	if spec.OutDir == "" {
		spec.OutDir = tb.TempDir()
	}
	return e.Run(context.Background(), spec)
}

func TestRunOK(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "data.txt"), []byte("input data"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		spec     Spec
		exit     uint32
		stdout   string
		stderr   string
		outFiles []string
	}{
		{name: "hello", spec: Spec{Module: tool}, stdout: "hello, world\n"},
		{name: "exit code passes through", spec: Spec{Module: tool, Args: []string{"exit", "42"}}, exit: 42},
		{name: "exit 0 via proc_exit", spec: Spec{Module: tool, Args: []string{"exit", "0"}}},
		{name: "named module exits 7", spec: Spec{Module: fixture(t, "named")}, exit: 7},
		{name: "args with argv[0] = module", spec: Spec{Module: tool, Args: []string{"args", "a b", ""}},
			stdout: "0=module\n1=args\n2=a b\n3=\n"},
		{name: "env sorted", spec: Spec{Module: tool, Args: []string{"env"}, Env: map[string]string{"Z": "1", "A": "x=y"}},
			stdout: "A=x=y\nZ=1\n"},
		{name: "stdin", spec: Spec{Module: tool, Args: []string{"cat"}, Stdin: strings.NewReader("piped in")},
			stdout: "piped in"},
		{name: "nil stdin is empty", spec: Spec{Module: tool, Args: []string{"count"}}, stdout: "0\n"},
		{name: "stdin exactly at limit", spec: Spec{Module: tool, Args: []string{"count"},
			Stdin: onlyReader{strings.NewReader("12345")}, Limits: Limits{MaxStdin: 5}}, stdout: "5\n"},
		{name: "mount readable", spec: Spec{Module: tool, Args: []string{"read", "/in/data.txt"},
			Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}}, stdout: "input data"},
		{name: "mount not writable", spec: Spec{Module: tool, Args: []string{"write", "/in/new.txt", "x"},
			Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}}, exit: 1, stdout: "open /in/new.txt: Read-only file system\n"},
		{name: "mount not overwritable", spec: Spec{Module: tool, Args: []string{"write", "/in/data.txt", "x"},
			Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}}, exit: 1, stdout: "open /in/data.txt: Read-only file system\n"},
		{name: "out written and listed", spec: Spec{Module: tool, Args: []string{"write", "/out/result.txt", "42"}},
			outFiles: []string{"result.txt"}},
		{name: "no host files", spec: Spec{Module: tool, Args: []string{"read", "/etc/passwd"}},
			exit: 1, stdout: "open /etc/passwd: Capabilities insufficient\n"},
		{name: "no escape by dot-dot", spec: Spec{Module: tool, Args: []string{"read", "/out/../../../../etc/passwd"}},
			exit: 1},
		{name: "no escape from mount by dot-dot", spec: Spec{Module: tool, Args: []string{"read", "/in/../../../../etc/passwd"},
			Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}}, exit: 1},
		{name: "guest cannot make symlinks", spec: Spec{Module: tool, Args: []string{"symlink", "../../../../../etc/passwd", "/out/link"}},
			exit: 1, stdout: "symlink: Operation not permitted\n"},
		{name: "stderr captured", spec: Spec{Module: tool, Args: []string{"nope"}}, exit: 64, stderr: "unknown command nope\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, e, tt.spec)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tt.exit {
				t.Errorf("exit code %d, want %d (stdout %q stderr %q)", res.ExitCode, tt.exit, res.Stdout, res.Stderr)
			}
			if tt.stdout != "" && string(res.Stdout) != tt.stdout {
				t.Errorf("stdout %q, want %q", res.Stdout, tt.stdout)
			}
			if string(res.Stderr) != tt.stderr {
				t.Errorf("stderr %q, want %q", res.Stderr, tt.stderr)
			}
			if !slices.Equal(res.OutFiles, tt.outFiles) {
				t.Errorf("out files %q, want %q", res.OutFiles, tt.outFiles)
			}
			if res.Usage.OutputBytes != int64(len(res.Stdout)+len(res.Stderr)) {
				t.Errorf("usage output %d, want %d", res.Usage.OutputBytes, len(res.Stdout)+len(res.Stderr))
			}
			if res.Usage.Wall <= 0 {
				t.Errorf("usage wall %v", res.Usage.Wall)
			}
		})
	}
}

// onlyReader hides Len so the size is found while reading.
type onlyReader struct{ r *strings.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestRunOutDir(t *testing.T) {
	e := newExecutor(t)
	res, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool"), Args: []string{"write", "/out/a.txt", "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(res.OutDir) })
	b, err := os.ReadFile(filepath.Join(res.OutDir, "a.txt"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("out file: %q %v", b, err)
	}
	if !slices.Equal(res.OutFiles, []string{"a.txt"}) {
		t.Fatalf("out files %q", res.OutFiles)
	}
	// Nested dirs are listed with slashes.
	out := t.TempDir()
	if _, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool"), Args: []string{"mkdir", "/out/sub"}, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	res, err = e.Run(context.Background(), Spec{Module: fixture(t, "tool"), Args: []string{"write", "/out/sub/b.txt", "x"}, OutDir: out})
	if err != nil || !slices.Equal(res.OutFiles, []string{"sub/b.txt"}) {
		t.Fatalf("nested: %v %q", err, res.OutFiles)
	}
}

func TestSymlinkInMountIsConfined(t *testing.T) {
	e := newExecutor(t)
	in := t.TempDir()
	if err := os.Symlink("/etc/passwd", filepath.Join(in, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc/passwd", filepath.Join(in, "rel")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "ok.txt"), []byte("fine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ok.txt", filepath.Join(in, "inside")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"abs", "rel"} {
		res, err := run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"read", "/in/" + name},
			Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode == 0 || bytes.Contains(res.Stdout, []byte("root:")) {
			t.Fatalf("%s: read through symlink escaped: %q", name, res.Stdout)
		}
	}
	res, err := run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"read", "/in/inside"},
		Mounts: []Mount{{HostPath: in, GuestPath: "/in"}}})
	if err != nil || string(res.Stdout) != "fine" {
		t.Fatalf("symlink inside the mount: %v %q", err, res.Stdout)
	}
}

func TestRunErrors(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	tests := []struct {
		name     string
		spec     Spec
		sentinel error
		msg      string // exact Error(), or prefix when it ends in "..."
		result   bool   // a partial Result comes with the error
	}{
		{name: "deadline", spec: Spec{Module: fixture(t, "loop"), Limits: Limits{Timeout: 50 * time.Millisecond}},
			sentinel: ErrDeadline, msg: "deadline of 50ms exceeded", result: true},
		{name: "memory.grow beyond limit traps", spec: Spec{Module: fixture(t, "grow")},
			sentinel: ErrMemoryLimit, msg: "memory limit of 64 MiB exceeded", result: true},
		{name: "malloc beyond limit exits 1", spec: Spec{Module: tool, Args: []string{"malloc", "100"}},
			sentinel: ErrMemoryLimit, msg: "memory limit of 64 MiB exceeded: memory.grow refused, module exited with 1", result: true},
		{name: "declared minimum over limit", spec: Spec{Module: fixture(t, "bigmin")},
			sentinel: ErrMemoryLimit, msg: "memory limit of 64 MiB exceeded: module declares a minimum of 128 MiB"},
		{name: "unexported memory minimum over limit", spec: Spec{Module: fixture(t, "hiddenmem")},
			sentinel: ErrMemoryLimit, msg: "memory limit of 64 MiB exceeded: module declares a minimum of 128 MiB"},
		{name: "output flood", spec: Spec{Module: tool, Args: []string{"flood"}, Limits: Limits{Timeout: time.Minute}},
			sentinel: ErrOutputLimit, msg: "output limit of 1 MiB exceeded", result: true},
		{name: "stack overflow", spec: Spec{Module: fixture(t, "stack"), Limits: Limits{Timeout: time.Minute}},
			sentinel: ErrTrap, msg: "stack overflow", result: true},
		{name: "unreachable", spec: Spec{Module: fixture(t, "unreachable")},
			sentinel: ErrTrap, msg: "unreachable executed", result: true},
		{name: "divide by zero", spec: Spec{Module: fixture(t, "divzero")},
			sentinel: ErrTrap, msg: "integer divide by zero", result: true},
		{name: "out of bounds", spec: Spec{Module: fixture(t, "oob")},
			sentinel: ErrTrap, msg: "out of bounds memory access", result: true},
		{name: "missing import", spec: Spec{Module: fixture(t, "missing")},
			sentinel: ErrMissingImport, msg: "missing import env.system"},
		{name: "wrong WASI signature", spec: Spec{Module: fixture(t, "badsig")},
			sentinel: ErrInvalidModule, msg: "invalid module: import wasi_snapshot_preview1.fd_write has the wrong signature"},
		{name: "no _start", spec: Spec{Module: fixture(t, "nostart")},
			sentinel: ErrNoStart, msg: "module has no _start"},
		{name: "garbage", spec: Spec{Module: []byte("this is not wasm")},
			sentinel: ErrInvalidModule, msg: "invalid module: ..."},
		{name: "empty module", spec: Spec{Module: nil},
			sentinel: ErrInvalidModule, msg: "invalid module: ..."},
		{name: "module too large", spec: Spec{Module: tool, Limits: Limits{MaxModuleSize: 1024}},
			sentinel: ErrModuleTooLarge, msg: "module size limit of 1 KiB exceeded: module is ..."},
		{name: "stdin too large, known size", spec: Spec{Module: tool, Args: []string{"count"},
			Stdin: strings.NewReader("123456"), Limits: Limits{MaxStdin: 5}},
			sentinel: ErrStdinTooLarge, msg: "stdin limit of 5 B exceeded: stdin is 6 B"},
		{name: "stdin too large, streamed", spec: Spec{Module: tool, Args: []string{"count"},
			Stdin: onlyReader{strings.NewReader("123456")}, Limits: Limits{MaxStdin: 5}},
			sentinel: ErrStdinTooLarge, msg: "stdin limit of 5 B exceeded", result: true},
		{name: "relative guest path", spec: Spec{Module: tool, Mounts: []Mount{{HostPath: t.TempDir(), GuestPath: "in"}}},
			sentinel: ErrHost, msg: "host error: mount in: guest path must be absolute"},
		{name: "mount over /out", spec: Spec{Module: tool, Mounts: []Mount{{HostPath: t.TempDir(), GuestPath: "/out/x"}}},
			sentinel: ErrHost, msg: "host error: mount /out/x: /out is the output directory"},
		{name: "missing host dir", spec: Spec{Module: tool, Mounts: []Mount{{HostPath: "/nonexistent/dir", GuestPath: "/in"}}},
			sentinel: ErrHost, msg: "host error: mount /in: ..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res, err := run(t, e, tt.spec)
			if err == nil {
				t.Fatalf("no error; exit %d stdout %.100q", res.ExitCode, res.Stdout)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("error %q (%T) is not %v", err, err, tt.sentinel)
			}
			if p, ok := strings.CutSuffix(tt.msg, "..."); ok {
				if !strings.HasPrefix(err.Error(), p) {
					t.Errorf("error %q, want prefix %q", err, p)
				}
			} else if err.Error() != tt.msg {
				t.Errorf("error %q, want %q", err, tt.msg)
			}
			if (res != nil) != tt.result {
				t.Errorf("result %v, want one: %v", res != nil, tt.result)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestTypedErrors(t *testing.T) {
	e := newExecutor(t)
	_, err := run(t, e, Spec{Module: fixture(t, "missing")})
	var mi *MissingImportError
	if !errors.As(err, &mi) || mi.Module != "env" || mi.Name != "system" {
		t.Fatalf("missing import: %#v", err)
	}
	_, err = run(t, e, Spec{Module: fixture(t, "divzero")})
	var te *TrapError
	if !errors.As(err, &te) || te.Kind != TrapIntegerDivideByZero || !strings.Contains(te.Stack, "wasm stack trace") {
		t.Fatalf("trap: %#v", err)
	}
	_, err = run(t, e, Spec{Module: fixture(t, "loop"), Limits: Limits{Timeout: 20 * time.Millisecond}})
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != LimitDeadline || le.Timeout != 20*time.Millisecond {
		t.Fatalf("deadline: %#v", err)
	}
	_, err = run(t, e, Spec{Module: fixture(t, "grow")})
	if !errors.As(err, &le) || le.Kind != LimitMemory || le.Limit != 64*MiB || !errors.As(err, &te) || te.Kind != TrapUnreachable {
		t.Fatalf("memory: %#v", err)
	}
}

func TestOutputLimitStopsPromptly(t *testing.T) {
	e := newExecutor(t)
	var tee bytes.Buffer
	res, err := run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"flood"}, Stdout: &tee,
		Limits: Limits{MaxOutput: 100 << 10, Timeout: time.Minute}})
	if !errors.Is(err, ErrOutputLimit) {
		t.Fatalf("err %v", err)
	}
	if len(res.Stdout) != 100<<10 || res.Usage.OutputBytes != 100<<10 || tee.Len() != 100<<10 {
		t.Fatalf("kept %d bytes, tee %d, usage %d; want exactly the cap", len(res.Stdout), tee.Len(), res.Usage.OutputBytes)
	}
	// The flood ignores write errors and would spin until the one-minute
	// deadline; being stopped well before it shows the cap stopped it.
	if res.Usage.Wall > 20*time.Second {
		t.Fatalf("flood ran for %v after the cap", res.Usage.Wall)
	}
}

func TestOutputCountsStdoutAndStderrTogether(t *testing.T) {
	o := &output{limit: 10, onExceed: func() {}}
	a, b := &stream{o: o}, &stream{o: o}
	if n, err := a.Write([]byte("123456")); n != 6 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := b.Write([]byte("7890")); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := b.Write([]byte("x")); n != 0 || !errors.Is(err, errOutputLimit) || !o.exceeded {
		t.Fatal(n, err)
	}
	if n, err := a.Write([]byte("y")); n != 0 || err == nil {
		t.Fatal(n, err)
	}
}

func TestMemoryUsage(t *testing.T) {
	e := newExecutor(t)
	// Generous deadlines: touching fresh memory is slow on a loaded machine,
	// and this test is about the memory limit.
	res, err := run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"malloc", "10"}, Limits: Limits{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.PeakMemory < 10*MiB || res.Usage.PeakMemory > 64*MiB {
		t.Fatalf("peak memory %d", res.Usage.PeakMemory)
	}
	// The same module passes under a higher limit: limits are per run, not
	// per compilation.
	res, err = run(t, e, Spec{Module: fixture(t, "tool"), Args: []string{"malloc", "80"}, Limits: Limits{Memory: 128 * MiB, Timeout: time.Minute}})
	if err != nil || res.Usage.PeakMemory < 80*MiB {
		t.Fatalf("128 MiB limit: %v %+v", err, res)
	}
	// And the grow module (1 + 2048 pages) fits in 256 MiB.
	if _, err := run(t, e, Spec{Module: fixture(t, "grow"), Limits: Limits{Memory: 256 * MiB, Timeout: time.Minute}}); err != nil {
		t.Fatal(err)
	}
}

func TestDeterminism(t *testing.T) {
	e := newExecutor(t)
	tool := fixture(t, "tool")
	det := func(seed string) string {
		res, err := run(t, e, Spec{Module: tool, Args: []string{"time"}, Deterministic: true, Seed: []byte(seed)})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v %+v", err, res)
		}
		return string(res.Stdout)
	}
	a, b, c := det("job-1"), det("job-1"), det("job-2")
	if a != b {
		t.Fatalf("same seed, different output:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds, same output: %s", a)
	}
	if !strings.HasPrefix(a, "real=1704067200.") {
		t.Fatalf("deterministic wall clock: %s", a)
	}
	// The sleep advanced the fake monotonic clock by 1 ms, without
	// sleeping for real.
	if !strings.Contains(a, "after sleep mono=0.001") {
		t.Fatalf("fake sleep: %s", a)
	}
	// Without determinism the clock is the host's.
	res, err := run(t, e, Spec{Module: tool, Args: []string{"time"}})
	if err != nil || strings.HasPrefix(string(res.Stdout), "real=1704067200.") {
		t.Fatalf("host clock: %v %s", err, res.Stdout)
	}
}

func TestCompile(t *testing.T) {
	e := newExecutor(t)
	h1, err := e.Compile(context.Background(), fixture(t, "tool"))
	if err != nil {
		t.Fatal(err)
	}
	h2, err := e.Compile(context.Background(), fixture(t, "tool"))
	if err != nil || h1 != h2 || len(h1.String()) != 64 {
		t.Fatal(err, h1, h2)
	}
	if n := e.compiles.Load(); n != 1 {
		t.Fatalf("%d compilations, want 1", n)
	}
	if _, err := run(t, e, Spec{Module: fixture(t, "tool")}); err != nil {
		t.Fatal(err)
	}
	if n := e.compiles.Load(); n != 1 {
		t.Fatalf("run after compile: %d compilations, want 1", n)
	}
	for _, name := range []string{"missing", "nostart"} {
		if _, err := e.Compile(context.Background(), fixture(t, name)); err == nil {
			t.Fatalf("%s compiled", name)
		}
	}
	if _, err := e.Compile(context.Background(), make([]byte, DefaultMaxModuleSize+1)); !errors.Is(err, ErrModuleTooLarge) {
		t.Fatal(err)
	}
}

func TestEvictsCompiledModules(t *testing.T) {
	e := newExecutor(t, WithMaxCompiled(1))
	for _, name := range []string{"tool", "loop", "tool"} {
		if _, err := e.Compile(context.Background(), fixture(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	e.mu.Lock()
	n := len(e.modules)
	e.mu.Unlock()
	if n != 1 || e.compiles.Load() != 3 {
		t.Fatalf("%d kept, %d compiles", n, e.compiles.Load())
	}
}

func TestDiskCacheAcrossExecutors(t *testing.T) {
	dir := t.TempDir()
	tool := fixture(t, "tool")
	e1, err := New(WithCacheDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e1.Compile(context.Background(), tool); err != nil {
		t.Fatal(err)
	}
	if err := e1.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := cacheFiles(t, dir)
	if len(before) == 0 {
		t.Fatal("no files in the cache dir after compiling")
	}

	e2 := newExecutor(t, WithCacheDir(dir))
	res, err := run(t, e2, Spec{Module: tool})
	if err != nil || string(res.Stdout) != "hello, world\n" {
		t.Fatal(err, res)
	}
	if n := e2.instrs.Load(); n != 0 {
		t.Fatalf("the second executor instrumented %d times: the stored instrumented module was not used", n)
	}
	after := cacheFiles(t, dir)
	// wazero writes a cache entry to a temp file and renames it into place,
	// so a recompilation would replace the file: same files = cache hit.
	if len(after) != len(before) {
		t.Fatalf("cache files %d -> %d", len(before), len(after))
	}
	for p, fi := range before {
		if !os.SameFile(fi, after[p]) || !fi.ModTime().Equal(after[p].ModTime()) {
			t.Fatalf("cache file %s was rewritten: the second executor compiled again", p)
		}
	}
}

func cacheFiles(tb testing.TB, dir string) map[string]os.FileInfo {
	tb.Helper()
	m := map[string]os.FileInfo{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			m[p] = fi
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestCapacity(t *testing.T) {
	e := newExecutor(t, WithMaxConcurrent(3), WithDefaultLimits(Limits{Memory: 32 * MiB}))
	c := e.Capacity()
	if c.MaxConcurrent != 3 || c.FreeSlots != 3 || c.MemoryLimit != 32*MiB || c.MaxMemory != 96*MiB || c.FreeMemory != 96*MiB {
		t.Fatalf("%+v", c)
	}
	if c.Limits.Timeout != DefaultTimeout {
		t.Fatalf("defaults not kept: %+v", c.Limits)
	}
}

func TestNewOptionErrors(t *testing.T) {
	for _, o := range []Option{WithMaxConcurrent(0), WithMaxModuleSize(0), WithCacheDir(""), WithMaxCompiled(0)} {
		if _, err := New(o); err == nil {
			t.Fatal("bad option accepted")
		}
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithCacheDir(filepath.Join(f, "sub"))); !errors.Is(err, ErrHost) {
		t.Fatalf("cache dir under a file: %v", err)
	}
}

func TestCloseTwiceAndAfter(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool")}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := e.Compile(context.Background(), fixture(t, "tool")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestCallerCancel(t *testing.T) {
	e := newExecutor(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		_, err := e.Run(ctx, Spec{Module: fixture(t, "tool"), Args: []string{"cat"}, OutDir: t.TempDir(),
			Stdin: &blockingReader{started: started, ctx: ctx}, Limits: Limits{Timeout: time.Minute}})
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

// blockingReader blocks until its ctx ends, like a slow stdin.
type blockingReader struct {
	started chan struct{}
	ctx     context.Context
	once    bool
}

func (b *blockingReader) Read([]byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.started)
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func TestParseFormatSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
	}{
		{"64MiB", 64 * MiB}, {"1 MiB", MiB}, {"512KiB", 512 * KiB}, {"1GiB", GiB}, {"4096", 4096},
		{"10B", 10}, {"1.5MiB", MiB + MiB/2}, {"64mb", 64 * MiB}, {" 2 gib ", 2 * GiB}, {"0", 0},
	} {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "MiB", "12XB", "-1", "1.2.3", "99999999999999999999", "20000000000GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	for _, tt := range []struct {
		in   uint64
		want string
	}{{64 * MiB, "64 MiB"}, {MiB, "1 MiB"}, {1536, "1.5 KiB"}, {100, "100 B"}, {GiB, "1 GiB"}, {0, "0 B"}} {
		if got := FormatSize(tt.in); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOutDirSymlinkConfined: a symlink already in a caller-given OutDir does
// not let the guest write outside it.
func TestOutDirSymlinkConfined(t *testing.T) {
	e := newExecutor(t)
	out, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(out, "escape")); err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), Spec{Module: fixture(t, "tool"), OutDir: out,
		Args: []string{"write", "/out/escape/pwned", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == 0 {
		t.Fatalf("write through symlink succeeded: %q", res.Stdout)
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); !os.IsNotExist(err) {
		t.Fatal("file written outside /out")
	}
}

func TestErrorStrings(t *testing.T) {
	for err, want := range map[error]string{
		&LimitError{Kind: LimitDeadline, Timeout: 2 * time.Second}:      "deadline of 2s exceeded",
		&LimitError{Kind: LimitMemory, Limit: 64 * MiB}:                 "memory limit of 64 MiB exceeded",
		&LimitError{Kind: LimitOutput, Limit: MiB}:                      "output limit of 1 MiB exceeded",
		&TrapError{Kind: TrapStackOverflow}:                             "stack overflow",
		&TrapError{Kind: TrapUnreachable}:                               "unreachable executed",
		&MissingImportError{Module: "env", Name: "system"}:              "missing import env.system",
		&MissingImportError{Module: "env", Name: "mem", Kind: "memory"}: "missing import env.mem (memory)",
		&InvalidModuleError{Reason: "bad magic"}:                        "invalid module: bad magic",
		ErrNoStart:                                                      "module has no _start",
		&HostError{Op: "x"}:                                             "host error: x",
	} {
		if err.Error() != want {
			t.Errorf("%q, want %q", err.Error(), want)
		}
	}
	if LimitKind(99).String() != "LimitKind(99)" || (&LimitError{Kind: 99}).Is(ErrDeadline) {
		t.Fatal("unknown kind")
	}
}
