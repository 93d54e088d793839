package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI tests run the real command in a child process: the test binary
// itself, re-executed with cloudlessMainEnv set, becomes `cloudless` (see
// TestCloudlessMainHelper). That is the built binary without a second go
// build, and it gives each run its own process, exit code, stdout and stderr.
const cloudlessMainEnv = "CLOUDLESS_TEST_MAIN"

// TestCloudlessMainHelper is not a test: in a child started by runCLI it
// runs main() with the arguments after "--".
func TestCloudlessMainHelper(t *testing.T) {
	if os.Getenv(cloudlessMainEnv) != "1" {
		t.Skip("helper process for the CLI tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"cloudless"}, args...)
	main() // exits
}

// cliResult is one run of the command.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs `cloudless ARGS...` in a child process with its own repo, home
// and temp dir.
type cli struct {
	t     testing.TB
	repo  string // an existing repo dir, so the compile cache goes to repo/wasm-cache
	tmp   string // the child's TMPDIR
	stdin []byte
}

func newCLI(t testing.TB) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, repo: filepath.Join(dir, "repo"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{c.repo, c.tmp, filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// command returns the child process running `cloudless ARGS...`.
func (c *cli) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCloudlessMainHelper$", "--"}, args...)...)
	home := filepath.Join(filepath.Dir(c.repo), "home")
	cmd.Env = append(os.Environ(),
		cloudlessMainEnv+"=1",
		"CLOUDLESS_REPO="+c.repo,
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"TMPDIR="+c.tmp,
	)
	return cmd
}

func (c *cli) run(args ...string) cliResult {
	c.t.Helper()
	cmd := c.command(args...)
	if c.stdin != nil {
		cmd.Stdin = bytes.NewReader(c.stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		c.t.Fatalf("cloudless %v: %v", args, err)
	}
	return res
}

// requireTool finds a build tool; without it the test is skipped, except in
// CI, where .ci/install-wasm-tools.sh (make test's prerequisite) installs it.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found; run .ci/install-wasm-tools.sh", name)
		}
		t.Skipf("%s not found (run .ci/install-wasm-tools.sh or make examples to install it)", name)
	}
	return p
}

// buildFixtures compiles testdata/*.wat with wat2wasm and testdata/*.c plus
// the C example functions with clang, into dir; it returns name -> path.
func buildFixtures(t testing.TB, dir string) map[string]string {
	t.Helper()
	wat2wasm := requireTool(t, "wat2wasm")
	clang := requireTool(t, "clang")
	out := map[string]string{}
	build := func(name string, cmd *exec.Cmd) {
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, b)
		}
	}
	wats, _ := filepath.Glob("testdata/*.wat")
	for _, w := range wats {
		name := strings.TrimSuffix(filepath.Base(w), ".wat")
		out[name] = filepath.Join(dir, name+".wasm")
		build(name, exec.Command(wat2wasm, "-o", out[name], w))
	}
	cs, _ := filepath.Glob("testdata/*.c")
	cs = append(cs, "../../examples/functions/hello/hello.c", "../../examples/functions/sha256/sha256.c")
	for _, c := range cs {
		name := strings.TrimSuffix(filepath.Base(c), ".c")
		out[name] = filepath.Join(dir, name+".wasm")
		build(name, exec.Command(clang, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-s", "-o", out[name], c))
	}
	return out
}

// TestExecCLI runs `cloudless exec` on real modules: the module's own exit
// code and output pass through, and every way the sandbox stops or refuses a
// module exits 125 with exactly one line on stderr naming cause and limit.
// The fixtures are built once and shared by the subtests.
func TestExecCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per case")
	}
	m := buildFixtures(t, t.TempDir())
	t.Run("stdin", func(t *testing.T) { testExecStdin(t, m) })
	t.Run("files", func(t *testing.T) { testExecFiles(t, m) })
	t.Run("json", func(t *testing.T) { testExecJSON(t, m) })
	t.Run("determinism", func(t *testing.T) { testExecDeterminism(t, m) })
	t.Run("interrupt", func(t *testing.T) { testExecInterrupt(t, m) })

	c := newCLI(t)
	// Trap cases get a generous deadline: on a loaded 2-core machine the
	// 10^5-deep recursion of recurse.wat takes a while to overflow.
	long := "--timeout=60s"

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, unless "" with anyStdout
		stderr string // exact
		// prefix: stderr must start with stderr instead of being equal.
		prefix    bool
		anyStdout bool
	}{
		{name: "stdout and args", args: []string{"exec", m["hello"], "--", "Ada"},
			stdout: "Hello, Ada! (from a WebAssembly sandbox)\n"},
		{name: "args without --", args: []string{"exec", m["hello"], "Bob"},
			stdout: "Hello, Bob! (from a WebAssembly sandbox)\n"},
		{name: "env", args: []string{"exec", "--env", "GREETING=Hi", "--env", "X=1=2", m["hello"]},
			stdout: "Hi, world! (from a WebAssembly sandbox)\n"},
		{name: "env value with =", args: []string{"exec", "--env", "X=1=2", m["files"], "env", "X"},
			stdout: "1=2\n"},
		{name: "no host env leaks", args: []string{"exec", m["files"], "env", "HOME"}, code: 3},
		{name: "exit code passes through", args: []string{"exec", m["exit42"]}, code: 42},
		{name: "exit code over 255 clamps", args: []string{"exec", m["files"], "exit", "300"}, code: 255},
		{name: "deterministic clock", args: []string{"exec", m["files"], "clock"},
			stdout: "1704067200 ", anyStdout: true},

		{name: "deadline", args: []string{"exec", "--timeout", "300ms", m["spin"]},
			code: 125, stderr: "cloudless: deadline of 300ms exceeded\n"},
		{name: "declared memory over limit", args: []string{"exec", m["bigmem"]},
			code: 125, stderr: "cloudless: memory limit of 64 MiB exceeded: module declares a minimum of 128 MiB\n"},
		{name: "memory.grow refused", args: []string{"exec", long, "--memory", "1MiB", m["grow"]},
			code: 125, stderr: "cloudless: memory limit of 1 MiB exceeded\n"},
		{name: "output limit", args: []string{"exec", "--max-output", "1KiB", m["flood"]},
			code: 125, stdout: strings.Repeat("flood!!\n", 128), stderr: "cloudless: output limit of 1 KiB exceeded\n"},
		{name: "stack overflow", args: []string{"exec", long, m["recurse"]},
			code: 125, stderr: "cloudless: stack overflow\n"},
		{name: "unreachable", args: []string{"exec", long, m["unreachable"]},
			code: 125, stderr: "cloudless: unreachable executed\n"},
		{name: "missing import", args: []string{"exec", m["system"]},
			code: 125, stderr: "cloudless: missing import env.system\n"},
		{name: "no _start", args: []string{"exec", m["nostart"]},
			code: 125, stderr: "cloudless: module has no _start\n"},
		{name: "invalid module", args: []string{"exec", "testdata/files.c"},
			code: 125, stderr: "cloudless: invalid module: ", prefix: true},
		{name: "module too large", args: []string{"exec", "--max-module", "1KiB", m["hello"]},
			code: 125, stderr: "cloudless: module size limit of 1 KiB exceeded: module is ", prefix: true},

		{name: "unknown CID", args: []string{"exec", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"},
			code: 1, stderr: "cloudless: module bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy: ", prefix: true},
		{name: "missing file", args: []string{"exec", "nope.wasm"},
			code: 1, stderr: "cloudless: module: open nope.wasm: no such file or directory\n"},
		{name: "bad size", args: []string{"exec", "--memory", "12XB", m["hello"]},
			code: 1, stderr: "cloudless: --memory: ", prefix: true},
		{name: "bad env", args: []string{"exec", "--env", "NOEQUALS", m["hello"]},
			code: 1, stderr: "cloudless: --env \"NOEQUALS\": want K=V\n"},
		{name: "bad dir", args: []string{"exec", "--dir", "/does/not/exist:/data", m["hello"]},
			code: 1, stderr: "cloudless: --dir ", prefix: true},
		{name: "no module", args: []string{"exec"}, code: 1, stderr: "cloudless: requires at least 1 arg(s)", prefix: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.run(tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tc.code, r.stderr)
			}
			switch {
			case tc.anyStdout:
				if !strings.HasPrefix(r.stdout, tc.stdout) {
					t.Errorf("stdout %q, want prefix %q", r.stdout, tc.stdout)
				}
			case r.stdout != tc.stdout:
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			if tc.prefix {
				if !strings.HasPrefix(r.stderr, tc.stderr) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("stderr %q, want one line starting %q", r.stderr, tc.stderr)
				}
			} else if r.stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tc.stderr)
			}
		})
	}

	t.Run("compile cache in repo", func(t *testing.T) {
		ents, err := os.ReadDir(filepath.Join(c.repo, "wasm-cache"))
		if err != nil || len(ents) == 0 {
			t.Fatalf("repo wasm-cache: %v entries, err %v", len(ents), err)
		}
	})
	t.Run("no temp dirs left", func(t *testing.T) {
		ents, err := os.ReadDir(c.tmp)
		if err != nil || len(ents) != 0 {
			t.Fatalf("TMPDIR holds %d entries after the runs (err %v)", len(ents), err)
		}
	})
}

// testExecStdin feeds stdin from a file, a pipe and "-", checks the digest
// against crypto/sha256, and the stdin limit.
func testExecStdin(t *testing.T, m map[string]string) {
	c := newCLI(t)
	data := bytes.Repeat([]byte("cloudless\x00\xff"), 50_000)
	file := filepath.Join(t.TempDir(), "in.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:]) + "  -\n"

	if r := c.run("exec", "--stdin", file, m["sha256"]); r.code != 0 || r.stdout != want {
		t.Errorf("--stdin FILE: code %d stdout %q stderr %q, want %q", r.code, r.stdout, r.stderr, want)
	}
	c.stdin = data
	if r := c.run("exec", m["sha256"]); r.code != 0 || r.stdout != want {
		t.Errorf("piped stdin: code %d stdout %q stderr %q, want %q", r.code, r.stdout, r.stderr, want)
	}
	if r := c.run("exec", "--stdin", "-", "--max-output", "1MiB", m["files"], "cat"); r.code != 0 || r.stdout != string(data) {
		t.Errorf("--stdin -: code %d, %d bytes out, want %d", r.code, len(r.stdout), len(data))
	}
	c.stdin = nil
	r := c.run("exec", "--stdin", file, "--max-stdin", "64KiB", m["sha256"])
	if r.code != 125 || !strings.HasPrefix(r.stderr, "cloudless: stdin limit of 64 KiB exceeded") {
		t.Errorf("stdin limit: code %d stderr %q", r.code, r.stderr)
	}
	if r := c.run("exec", "--stdin", "/does/not/exist", m["sha256"]); r.code != 1 || !strings.HasPrefix(r.stderr, "cloudless: --stdin: ") {
		t.Errorf("missing --stdin file: code %d stderr %q", r.code, r.stderr)
	}
}

// testExecFiles mounts a host directory read-only and keeps /out in --out.
func testExecFiles(t *testing.T, m map[string]string) {
	c := newCLI(t)
	in := filepath.Join(t.TempDir(), "input")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.txt"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")

	r := c.run("exec", "--dir", in+":/data", "--out", out, m["files"], "copy", "/data/a.txt", "/out/b.txt")
	if r.code != 0 {
		t.Fatalf("copy: code %d stderr %q", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "b.txt")); err != nil || string(b) != "from the host\n" {
		t.Errorf("--out b.txt = %q, %v", b, err)
	}

	// GUEST defaults to /<base name>.
	if r := c.run("exec", "--dir", in, m["files"], "copy", "/input/a.txt", "/out/c.txt"); r.code != 0 {
		t.Errorf("--dir HOST: code %d stderr %q", r.code, r.stderr)
	} else if !strings.Contains(r.stderr, "wrote 1 file(s) to /out; pass --out DIR") {
		t.Errorf("no note about discarded /out files: stderr %q", r.stderr)
	}

	// The mount is read-only: the module's write fails and the host dir is
	// unchanged.
	r = c.run("exec", "--dir", in+":/data", m["files"], "write", "/data/new.txt", "x")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "files: /data/new.txt: ") {
		t.Errorf("write to read-only mount: code %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(in, "new.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only mount was written: %v", err)
	}
	// Nothing outside the mounts: the host's root is not there.
	if r := c.run("exec", m["files"], "copy", "/etc/passwd", "/out/p"); r.code != 1 {
		t.Errorf("read /etc/passwd: code %d stdout %q", r.code, r.stdout)
	}
	if r := c.run("exec", "--dir", in+":/out", m["hello"]); r.code != 1 {
		t.Errorf("mount over /out: code %d stderr %q", r.code, r.stderr)
	}
}

// testExecJSON checks the --json record for a normal run, binary output
// and a sandbox stop.
func testExecJSON(t *testing.T, m map[string]string) {
	c := newCLI(t)
	decode := func(r cliResult) execRecord {
		t.Helper()
		var rec execRecord
		if err := json.Unmarshal([]byte(r.stdout), &rec); err != nil {
			t.Fatalf("stdout is not a record: %v\n%s", err, r.stdout)
		}
		return rec
	}

	r := c.run("exec", "--json", m["hello"], "--", "JSON")
	rec := decode(r)
	mod, _ := os.ReadFile(m["hello"])
	sum := sha256.Sum256(mod)
	if r.code != 0 || r.stderr != "" || rec.ExitCode == nil || *rec.ExitCode != 0 ||
		rec.Stdout == nil || *rec.Stdout != "Hello, JSON! (from a WebAssembly sandbox)\n" ||
		rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Usage == nil || rec.Usage.WallNS <= 0 ||
		rec.Usage.PeakMemory == 0 || rec.Usage.OutputBytes != int64(len(*rec.Stdout)) || rec.Error != "" {
		t.Errorf("hello --json: code %d stderr %q record %+v", r.code, r.stderr, rec)
	}

	c.stdin = []byte{0xff, 0xfe, 0x00, 'x'}
	r = c.run("exec", "--json", m["files"], "cat")
	rec = decode(r)
	if b, err := base64.StdEncoding.DecodeString(rec.StdoutBase64); err != nil || !bytes.Equal(b, c.stdin) || rec.Stdout != nil {
		t.Errorf("binary stdout: record %+v", rec)
	}
	c.stdin = nil

	out := filepath.Join(t.TempDir(), "out")
	r = c.run("exec", "--json", "--out", out, m["files"], "write", "/out/r.txt", "hi")
	rec = decode(r)
	if r.code != 0 || rec.OutDir != out || len(rec.OutFiles) != 1 || rec.OutFiles[0] != "r.txt" {
		t.Errorf("--json --out: code %d record %+v", r.code, rec)
	}

	r = c.run("exec", "--json", "--timeout", "200ms", m["spin"])
	rec = decode(r)
	if r.code != 125 || rec.ErrorKind != "deadline" || rec.Error != "deadline of 200ms exceeded" ||
		rec.ExitCode != nil || r.stderr != "cloudless: deadline of 200ms exceeded\n" {
		t.Errorf("spin --json: code %d stderr %q record %+v", r.code, r.stderr, rec)
	}

	r = c.run("exec", "--json", m["exit42"])
	rec = decode(r)
	if r.code != 42 || rec.ExitCode == nil || *rec.ExitCode != 42 {
		t.Errorf("exit42 --json: code %d record %+v", r.code, rec)
	}
}

// testExecDeterminism: the same module and seed print the same bytes;
// another seed or --deterministic=false does not.
func testExecDeterminism(t *testing.T, m map[string]string) {
	c := newCLI(t)
	a := c.run("exec", "--seed", "job-1", m["files"], "clock")
	b := c.run("exec", "--seed", "job-1", m["files"], "clock")
	other := c.run("exec", "--seed", "job-2", m["files"], "clock")
	live := c.run("exec", "--deterministic=false", m["files"], "clock")
	if a.code != 0 || a.stdout != b.stdout || !strings.HasPrefix(a.stdout, "1704067200 ") {
		t.Errorf("same seed: %q vs %q", a.stdout, b.stdout)
	}
	if other.stdout == a.stdout || !strings.HasPrefix(other.stdout, "1704067200 ") {
		t.Errorf("another seed gave %q, first %q", other.stdout, a.stdout)
	}
	if live.code != 0 || strings.HasPrefix(live.stdout, "1704067200 ") {
		t.Errorf("--deterministic=false: %q", live.stdout)
	}
}

// testExecInterrupt: SIGINT while the module spins stops it; the command
// exits 130 with one line.
func testExecInterrupt(t *testing.T, m map[string]string) {
	c := newCLI(t)
	cmd := c.command("exec", "--timeout", "5m", m["files"], "spin")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The module prints "spinning" once it runs: the signal handler is set
	// by then.
	line := make([]byte, len("spinning\n"))
	if _, err := io.ReadFull(stdout, line); err != nil || string(line) != "spinning\n" {
		_ = cmd.Process.Kill()
		t.Fatalf("read %q: %v", line, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || stderr.String() != "cloudless: interrupted\n" {
		t.Errorf("after SIGINT: %v, stderr %q, want exit 130", err, stderr.String())
	}
}
