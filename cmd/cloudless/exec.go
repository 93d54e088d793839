package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/executor"
)

// exitSandboxStop is the exit code of `cloudless exec` when the sandbox
// refused or stopped the module (a limit, a trap, an invalid module, a
// missing import, no _start). 125 follows `docker run`, whose own failures
// exit 125 so that they stand apart from the contained program's codes; a
// module can still exit 125 itself, and --json tells the two apart.
const exitSandboxStop = 125

// exitInterrupted is the exit code after SIGINT/SIGTERM stopped the run
// (128 + SIGINT, as shells report it).
const exitInterrupted = 130

type execFlags struct {
	memory, maxOutput, maxStdin, maxModule string
	timeout                                time.Duration
	stdin                                  string
	env, dirs                              []string
	out                                    string
	deterministic                          bool
	seed                                   string
}

func newExecCmd(g *globalFlags) *cobra.Command {
	d := executor.DefaultLimits()
	f := &execFlags{}
	cmd := &cobra.Command{
		Use:   "exec [flags] MODULE.wasm [--] [ARGS...]",
		Short: "Run a WebAssembly (WASI) module in the sandbox on this machine",
		Long: `Runs a WASI command module (a .wasm file exporting _start) in the wazero
sandbox, the same one a provider runs jobs in, with the same limits.

The module sees only what you give it: its ARGS, the --env variables, stdin,
the --dir directories (read-only) and a writable /out directory (kept in
--out DIR, else discarded). No network, no other host files, no imports but
WASI preview1. By default it runs in deterministic mode: a fixed clock
starting 2024-01-01 and randomness seeded by --seed, so the same module with
the same inputs prints the same bytes on any machine.

Its stdout and stderr stream to the terminal and its own exit code is the exit
code of this command. When the sandbox stops or refuses the module, this
command prints one line naming the cause and the limit, e.g.
"cloudless: deadline of 2s exceeded", and exits 125.

Flags of this command come before MODULE; everything after MODULE goes to
the module (a "--" right after MODULE is dropped). Without --stdin, the
module reads this command's stdin when that is a pipe or a file, and an empty
stdin when it is a terminal. Compiled modules are cached in the repo's
wasm-cache/ (or the user cache dir when there is no repo), so the second run
of a module does not compile it again.`,
		Example: `  cloudless exec build/examples/hello.wasm -- Ada
  cloudless exec --stdin big.iso build/examples/sha256.wasm
  cloudless exec --dir ./examples/data/sales:/data --out ./report \
      build/examples/csvagg.wasm -by region -sum units,revenue /data
  cloudless exec --timeout 500ms --memory 16MiB --json spin.wasm`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			guestArgs := args[1:]
			if len(guestArgs) > 0 && guestArgs[0] == "--" {
				guestArgs = guestArgs[1:]
			}
			return runExec(cmd, g, f, args[0], guestArgs)
		},
	}
	fl := cmd.Flags()
	// MODULE ends this command's flags: what follows belongs to the module.
	fl.SetInterspersed(false)
	fl.StringVar(&f.memory, "memory", flagSize(d.Memory), "memory limit (KiB, MiB, GiB)")
	fl.DurationVar(&f.timeout, "timeout", d.Timeout, "wall-clock deadline of the run")
	fl.StringVar(&f.maxOutput, "max-output", flagSize(uint64(d.MaxOutput)), "limit of stdout+stderr together")
	fl.StringVar(&f.maxStdin, "max-stdin", flagSize(uint64(d.MaxStdin)), "limit of the bytes the module may read from stdin")
	fl.StringVar(&f.maxModule, "max-module", flagSize(uint64(d.MaxModuleSize)), "limit of the module's size")
	fl.StringVar(&f.stdin, "stdin", "", `file the module reads as stdin ("-": this command's stdin)`)
	fl.StringArrayVar(&f.env, "env", nil, "environment variable K=V of the module (repeatable)")
	fl.StringArrayVar(&f.dirs, "dir", nil, "host directory HOST[:GUEST] mounted read-only (repeatable; GUEST defaults to /<base name of HOST>)")
	fl.StringVar(&f.out, "out", "", "host directory that is the module's /out (created if needed; default: a temp dir, removed)")
	fl.BoolVar(&f.deterministic, "deterministic", true, "fixed clock and seeded randomness")
	fl.StringVar(&f.seed, "seed", "", "seed of the module's randomness in deterministic mode")
	return cmd
}

// flagSize prints a default size the way the flag accepts it ("64MiB").
func flagSize(n uint64) string { return strings.ReplaceAll(executor.FormatSize(n), " ", "") }

func runExec(cmd *cobra.Command, g *globalFlags, f *execFlags, moduleArg string, guestArgs []string) error {
	ctx := cmd.Context()
	lim, err := f.limits()
	if err != nil {
		return err
	}
	spec := executor.Spec{
		Args:          guestArgs,
		Limits:        lim,
		Deterministic: f.deterministic,
		Seed:          []byte(f.seed),
		OutDir:        f.out,
	}
	if spec.Env, err = parseExecEnv(f.env); err != nil {
		return err
	}
	if spec.Mounts, err = parseExecDirs(f.dirs); err != nil {
		return err
	}
	stdin, closeStdin, err := openExecStdin(f.stdin, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer closeStdin()
	spec.Stdin = stdin
	var tail lastByte
	if !g.json {
		spec.Stdout = tail.writer(cmd.OutOrStdout())
		spec.Stderr = tail.writer(cmd.ErrOrStderr())
	}

	module, err := loadModule(ctx, g, moduleArg, lim.MaxModuleSize)
	if err != nil {
		return execExit(ctx, nil, err) // a module over the size limit is a sandbox refusal
	}
	spec.Module = module

	opts := []executor.Option{executor.WithMaxConcurrent(1)}
	if dir := execCacheDir(g); dir != "" {
		opts = append(opts, executor.WithCacheDir(dir))
	}
	ex, err := executor.New(opts...)
	if err != nil {
		return err
	}
	defer ex.Close(context.Background())

	res, runErr := ex.Run(ctx, spec)
	if res != nil && f.out == "" {
		// The executor made a temp dir for /out; without --out nobody wants it.
		defer os.RemoveAll(res.OutDir)
		if runErr == nil && len(res.OutFiles) > 0 && !g.json {
			fmt.Fprintf(cmd.ErrOrStderr(), "cloudless: note: the module wrote %d file(s) to /out; pass --out DIR to keep them\n", len(res.OutFiles))
		}
	}
	if g.json {
		rec := newExecRecord(moduleArg, module, res, runErr)
		if f.out == "" {
			rec.OutDir = "" // removed when this command returns
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	if runErr != nil && tail.midLine() && isTerminal(cmd.ErrOrStderr()) {
		// The module was stopped in the middle of a line: end it, so the
		// reason is a line of its own on the terminal.
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	return execExit(ctx, res, runErr)
}

// lastByte remembers the last byte the module wrote to the terminal, over
// stdout and stderr together.
type lastByte struct {
	mu   sync.Mutex
	last byte
}

// writer passes writes on to w, noting their last byte.
func (t *lastByte) writer(w io.Writer) io.Writer { return &tailWriter{t: t, w: w} }

type tailWriter struct {
	t *lastByte
	w io.Writer
}

func (w *tailWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.t.mu.Lock()
		w.t.last = p[len(p)-1]
		w.t.mu.Unlock()
	}
	return w.w.Write(p)
}

func (t *lastByte) midLine() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last != 0 && t.last != '\n'
}

// isTerminal reports whether w is a terminal (a character device). run.go
// uses it too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// execExit maps the outcome of a run to this command's exit: the module's
// own code, exitSandboxStop with the sandbox's one-line reason, or an
// ordinary error for failures on this side (bad flags, unreadable files).
func execExit(ctx context.Context, res *executor.Result, err error) error {
	switch {
	case err == nil:
		if res.ExitCode == 0 {
			return nil
		}
		// A process exit status has 8 bits; a WASI exit code has 32. Clamp
		// rather than wrap, so 256 does not look like success.
		return &ExitCodeError{Code: int(min(res.ExitCode, 255))}
	case ctx.Err() != nil && !isSandboxStop(err):
		return &ExitCodeError{Code: exitInterrupted, Err: errors.New("interrupted")}
	case isSandboxStop(err):
		return &ExitCodeError{Code: exitSandboxStop, Err: err}
	}
	return err
}

// isSandboxStop reports whether err is the sandbox refusing or stopping the
// module, as opposed to a failure of the host or of this command.
func isSandboxStop(err error) bool {
	return execErrorKind(err) != "" && !errors.Is(err, executor.ErrHost) && !errors.Is(err, executor.ErrClosed)
}

// execErrorKind names the failure for --json: one word per executor
// sentinel.
func execErrorKind(err error) string {
	kinds := []struct {
		err  error
		kind string
	}{
		{executor.ErrDeadline, "deadline"},
		{executor.ErrMemoryLimit, "memory_limit"},
		{executor.ErrOutputLimit, "output_limit"},
		{executor.ErrModuleTooLarge, "module_too_large"},
		{executor.ErrStdinTooLarge, "stdin_too_large"},
		{executor.ErrTrap, "trap"},
		{executor.ErrMissingImport, "missing_import"},
		{executor.ErrNoStart, "no_start"},
		{executor.ErrInvalidModule, "invalid_module"},
		{executor.ErrHost, "host"},
		{executor.ErrClosed, "closed"},
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return ""
}

func (f *execFlags) limits() (executor.Limits, error) {
	var lim executor.Limits
	size := func(name, v string) (uint64, error) {
		n, err := executor.ParseSize(v)
		if err != nil {
			return 0, fmt.Errorf("--%s: %w", name, err)
		}
		if n == 0 {
			return 0, fmt.Errorf("--%s: must be more than 0", name)
		}
		return n, nil
	}
	var err error
	if lim.Memory, err = size("memory", f.memory); err != nil {
		return lim, err
	}
	sizes := []struct {
		name, v string
		dst     *int64
	}{
		{"max-output", f.maxOutput, &lim.MaxOutput},
		{"max-stdin", f.maxStdin, &lim.MaxStdin},
		{"max-module", f.maxModule, &lim.MaxModuleSize},
	}
	for _, s := range sizes {
		n, err := size(s.name, s.v)
		if err != nil {
			return lim, err
		}
		if n > 1<<62 {
			return lim, fmt.Errorf("--%s: %s is too large", s.name, s.v)
		}
		*s.dst = int64(n)
	}
	if f.timeout <= 0 {
		return lim, fmt.Errorf("--timeout: must be more than 0, got %s", f.timeout)
	}
	lim.Timeout = f.timeout
	return lim, nil
}

func parseExecEnv(kvs []string) (map[string]string, error) {
	env := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--env %q: want K=V", kv)
		}
		env[k] = v
	}
	return env, nil
}

// parseExecDirs reads HOST[:GUEST] mounts. GUEST is the part after the last ':'
// that starts an absolute path, so host paths with colons still work.
func parseExecDirs(specs []string) ([]executor.Mount, error) {
	var ms []executor.Mount
	for _, s := range specs {
		host, guest := s, ""
		if i := strings.LastIndex(s, ":/"); i > 0 {
			host, guest = s[:i], s[i+1:]
		}
		abs, err := filepath.Abs(host)
		if err != nil {
			return nil, fmt.Errorf("--dir %q: %w", s, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("--dir %q: %w", s, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--dir %q: %s is not a directory", s, host)
		}
		if guest == "" {
			guest = "/" + filepath.Base(abs)
		}
		ms = append(ms, executor.Mount{HostPath: abs, GuestPath: guest})
	}
	return ms, nil
}

// openExecStdin returns the module's stdin: the --stdin file, this process's
// stdin for "-", or (without --stdin) this process's stdin unless it is a
// terminal, so `cat x | cloudless exec m.wasm` works and an interactive
// shell does not block a module that reads stdin.
func openExecStdin(name string, own io.Reader) (io.Reader, func(), error) {
	noop := func() {}
	switch name {
	case "-":
		return own, noop, nil
	case "":
		if f, ok := own.(*os.File); ok {
			st, err := f.Stat()
			if err != nil || st.Mode()&os.ModeCharDevice != 0 {
				return nil, noop, nil
			}
		}
		return own, noop, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, noop, fmt.Errorf("--stdin: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// loadModule returns the bytes of the module MODULE names: a .wasm file, or
// a CID read from the repo's IPFS store (publish or `cloudless get` it
// first). It reads at most maxSize+1 bytes of a file, so the executor's size
// limit applies without reading a huge file whole.
func loadModule(ctx context.Context, g *globalFlags, arg string, maxSize int64) ([]byte, error) {
	f, err := os.Open(arg)
	if errors.Is(err, os.ErrNotExist) {
		if c, cerr := cid.Decode(arg); cerr == nil {
			// A CID: read it from the repo's IPFS store (storage part).
			st, serr := openStore(ctx, g)
			if serr != nil {
				return nil, fmt.Errorf("module %s: %w", arg, serr)
			}
			defer st.Close()
			b, rerr := st.ReadFile(ctx, c, maxSize)
			if rerr != nil {
				return nil, fmt.Errorf("module %s: %w (publish or `cloudless get` it into this repo first)", arg, rerr)
			}
			return b, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("module: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("module: %s is a directory, want a .wasm file", arg)
		}
		if st.Mode().IsRegular() && st.Size() > maxSize {
			// The same refusal the executor would give, without reading it.
			return nil, &executor.LimitError{Kind: executor.LimitModuleSize, Limit: uint64(maxSize),
				Detail: "module is " + executor.FormatSize(uint64(st.Size()))}
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("module: %w", err)
	}
	return b, nil
}

// execCacheDir is where compiled modules are kept across runs: the repo's
// wasm-cache/ when a repo exists, else the user cache dir, else nowhere.
func execCacheDir(g *globalFlags) string {
	if st, err := os.Stat(g.repoPath()); err == nil && st.IsDir() {
		return filepath.Join(g.repoPath(), "wasm-cache")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cloudless", "wasm-cache")
	}
	return ""
}

// execRecord is what `cloudless exec --json` prints. Output that is valid
// UTF-8 is a string; other output is base64 in the *_base64 field.
type execRecord struct {
	Module       string     `json:"module"`
	SHA256       string     `json:"sha256"`
	ExitCode     *uint32    `json:"exit_code,omitempty"`
	Error        string     `json:"error,omitempty"`
	ErrorKind    string     `json:"error_kind,omitempty"`
	Stdout       *string    `json:"stdout,omitempty"`
	StdoutBase64 string     `json:"stdout_base64,omitempty"`
	Stderr       *string    `json:"stderr,omitempty"`
	StderrBase64 string     `json:"stderr_base64,omitempty"`
	OutDir       string     `json:"out_dir,omitempty"`
	OutFiles     []string   `json:"out_files,omitempty"`
	Usage        *execUsage `json:"usage,omitempty"`
}

type execUsage struct {
	WallNS      int64  `json:"wall_ns"`
	Wall        string `json:"wall"`
	PeakMemory  uint64 `json:"peak_memory_bytes"`
	OutputBytes int64  `json:"output_bytes"`
}

func newExecRecord(moduleArg string, module []byte, res *executor.Result, err error) execRecord {
	sum := sha256.Sum256(module)
	rec := execRecord{Module: moduleArg, SHA256: hex.EncodeToString(sum[:])}
	if err != nil {
		rec.Error = err.Error()
		rec.ErrorKind = execErrorKind(err)
	}
	if res == nil {
		return rec
	}
	if err == nil {
		code := res.ExitCode
		rec.ExitCode = &code
	}
	rec.Stdout, rec.StdoutBase64 = textOrBase64(res.Stdout)
	rec.Stderr, rec.StderrBase64 = textOrBase64(res.Stderr)
	rec.OutFiles = res.OutFiles
	if len(res.OutFiles) > 0 {
		rec.OutDir = res.OutDir
	}
	rec.Usage = &execUsage{
		WallNS:      res.Usage.Wall.Nanoseconds(),
		Wall:        res.Usage.Wall.String(),
		PeakMemory:  res.Usage.PeakMemory,
		OutputBytes: res.Usage.OutputBytes,
	}
	return rec
}

func textOrBase64(b []byte) (*string, string) {
	if utf8.Valid(b) {
		s := string(b)
		return &s, ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}
