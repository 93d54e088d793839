package trigger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Errors the invokers return (wrapped, one line) when a function did not
// run to an exit code; the gateway maps them to status codes.
var (
	// ErrDeadline: the function ran past its timeout and was stopped
	// (gateway 504).
	ErrDeadline = errors.New("ran past its deadline")
	// ErrStopped: the sandbox stopped the function for another limit
	// (output, memory) or a trap, or refused the module (gateway 502).
	ErrStopped = errors.New("stopped by the sandbox")
	// ErrNoProvider: no provider bid for or delivered the invocation
	// (gateway 503).
	ErrNoProvider = errors.New("no provider ran it")
)

// Runner is the sandbox (*executor.Executor).
type Runner interface {
	Run(ctx context.Context, spec executor.Spec) (*executor.Result, error)
}

// ModuleSource gives modules and inputs by CID (the node's IPFS store).
type ModuleSource interface {
	// Cat returns a UnixFS file's bytes, refusing files over max.
	Cat(ctx context.Context, cid string, max int64) ([]byte, error)
	// Fetch writes a UnixFS file or directory to the host path dst.
	Fetch(ctx context.Context, cid string, dst string) error
}

var _ Runner = (*executor.Executor)(nil)

// LocalProvider is Output.Provider of runs on the daemon's own executor.
const LocalProvider = "local"

// maxLocalModule bounds a module read for a local run.
const maxLocalModule = executor.DefaultMaxModuleSize

// moduleCacheBytes bounds the module bytes the local invoker keeps in
// memory between invocations (so a warm call does not read the blockstore).
const moduleCacheBytes = 256 << 20

type localInvoker struct {
	run     Runner
	content ModuleSource

	mu    sync.Mutex
	mods  map[string]localModule
	order []string
	size  int
}

// localModule is a module's bytes and their executor.HashModule, computed
// once when they are read: passed as Spec.ModuleHash, it spares the
// executor a sha256 of the module per invocation.
type localModule struct {
	b []byte
	h executor.Hash
}

// NewLocalInvoker runs invocations on the daemon's own executor (a
// function with local: true): the module is read from content by its CID
// (and kept in memory, up to 256 MiB of modules, least recently used out),
// the invocation's inputs are fetched to a temp dir and mounted, and
// Output.JobID is a fresh job ID. Nothing is paid.
//
// Errors (one line): ErrDeadline, ErrStopped (with the sandbox's reason),
// or the store's error when the module cannot be read.
func NewLocalInvoker(run Runner, content ModuleSource) Invoker {
	return &localInvoker{run: run, content: content, mods: map[string]localModule{}}
}

func (l *localInvoker) module(ctx context.Context, c string) (localModule, error) {
	l.mu.Lock()
	if m, ok := l.mods[c]; ok {
		l.touch(c)
		l.mu.Unlock()
		return m, nil
	}
	l.mu.Unlock()
	b, err := l.content.Cat(ctx, c, maxLocalModule)
	if err != nil {
		return localModule{}, fmt.Errorf("read module %s: %w", c, err)
	}
	m := localModule{b: b, h: executor.HashModule(b)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.mods[c]; !ok && len(b) <= moduleCacheBytes {
		l.mods[c] = m
		l.order = append(l.order, c)
		l.size += len(b)
		for l.size > moduleCacheBytes && len(l.order) > 0 {
			old := l.order[0]
			l.order = l.order[1:]
			l.size -= len(l.mods[old].b)
			delete(l.mods, old)
		}
	}
	return m, nil
}

// touch moves c to the end of the LRU order (l.mu held).
func (l *localInvoker) touch(c string) {
	for i, k := range l.order {
		if k == c {
			l.order = append(append(l.order[:i:i], l.order[i+1:]...), c)
			return
		}
	}
}

// Invoke runs inv. When it did not run to an exit code it returns the
// error with a partial Output (job ID, provider, exit code -1, duration):
// the invocation is still a job, recorded as failed.
func (l *localInvoker) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	start := time.Now()
	id := wire.NewJobID()
	out, err := l.invoke(ctx, fn, inv, id, start)
	if err != nil {
		return &Output{JobID: id.String(), Provider: LocalProvider, ExitCode: -1, Duration: time.Since(start)}, err
	}
	return out, nil
}

func (l *localInvoker) invoke(ctx context.Context, fn *Function, inv Invocation, id wire.JobID, start time.Time) (*Output, error) {
	mod, err := l.module(ctx, fn.Module)
	if err != nil {
		return nil, err
	}
	spec := executor.Spec{
		Module:        mod.b,
		ModuleHash:    mod.h,
		Args:          append(append([]string(nil), fn.Args...), inv.Args...),
		Env:           mergeEnv(fn.Env, inv.Env),
		Deterministic: fn.Deterministic,
		Seed:          id[:],
		NoOut:         inv.StdoutOnly,
		Limits: executor.Limits{Memory: uint64(fn.Resources.Memory), Timeout: fn.Resources.Timeout.D(),
			MaxOutput: int64(fn.Resources.MaxOutput)},
	}
	switch {
	case inv.Stdin != nil:
		spec.Stdin = bytes.NewReader(inv.Stdin)
	case inv.StdinCID != "":
		b, err := l.content.Cat(ctx, inv.StdinCID, executor.DefaultMaxStdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin %s: %w", inv.StdinCID, err)
		}
		spec.Stdin = bytes.NewReader(b)
	}
	var tmp string
	if len(inv.Inputs) > 0 {
		if tmp, err = os.MkdirTemp("", "cloudless-fn-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		for i, in := range inv.Inputs {
			dst := filepath.Join(tmp, fmt.Sprintf("in%d", i))
			if err := l.content.Fetch(ctx, in.CID, dst); err != nil {
				return nil, fmt.Errorf("fetch input %s: %w", in.CID, err)
			}
			// A file input is mounted as its parent directory's only file.
			host, guest := dst, in.Path
			if st, err := os.Stat(dst); err == nil && !st.IsDir() {
				dir := filepath.Join(tmp, fmt.Sprintf("dir%d", i))
				if err := os.Mkdir(dir, 0o755); err != nil {
					return nil, err
				}
				if err := os.Rename(dst, filepath.Join(dir, filepath.Base(in.Path))); err != nil {
					return nil, err
				}
				host, guest = dir, filepath.Dir(in.Path)
			}
			spec.Mounts = append(spec.Mounts, executor.Mount{HostPath: host, GuestPath: guest})
		}
	}
	res, err := l.run.Run(ctx, spec)
	if res != nil && res.OutDir != "" {
		os.RemoveAll(res.OutDir) // the gateway answers from stdout; /out is not kept for local runs
	}
	if err != nil {
		return nil, sandboxErr(fn, err)
	}
	return &Output{JobID: id.String(), Provider: LocalProvider, ExitCode: int32(res.ExitCode),
		Stdout: res.Stdout, Stderr: res.Stderr, Price: nil, Duration: time.Since(start)}, nil
}

// sandboxErr names why the sandbox stopped a function, in one line.
func sandboxErr(fn *Function, err error) error {
	switch {
	case errors.Is(err, executor.ErrDeadline):
		return fmt.Errorf("function %s %w of %s", fn.Name, ErrDeadline, fn.Resources.Timeout)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, executor.ErrOutputLimit), errors.Is(err, executor.ErrMemoryLimit), errors.Is(err, executor.ErrTrap),
		errors.Is(err, executor.ErrInvalidModule), errors.Is(err, executor.ErrMissingImport), errors.Is(err, executor.ErrNoStart),
		errors.Is(err, executor.ErrModuleTooLarge), errors.Is(err, executor.ErrStdinTooLarge):
		return fmt.Errorf("function %s %w: %v", fn.Name, ErrStopped, err)
	}
	return fmt.Errorf("function %s: %w", fn.Name, err)
}

// mergeEnv returns base with over laid on top. When one of them is empty
// it returns the other itself, not a copy (the executor only reads
// Spec.Env): a function without its own env, behind the gateway, runs on
// the request's CGI map as it is.
func mergeEnv(base, over map[string]string) map[string]string {
	switch {
	case len(over) == 0 && len(base) == 0:
		return nil
	case len(base) == 0:
		return over
	case len(over) == 0:
		return base
	}
	out := make(map[string]string, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}
