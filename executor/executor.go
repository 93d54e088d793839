package executor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/cloudless-network/cloudless/executor/internal/guardfs"
	"github.com/cloudless-network/cloudless/executor/internal/interrupt"
	"github.com/cloudless-network/cloudless/executor/internal/wasmbin"
)

// Hash is the sha256 of a module's bytes (as given, before the executor
// instruments it): the key of the in-memory compile table.
type Hash [32]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Mount exposes a host directory to the guest, read-only.
type Mount struct {
	// HostPath is an existing directory on the host.
	HostPath string
	// GuestPath is the absolute path the guest sees, e.g. "/data". It must
	// not be "/out" or inside it.
	GuestPath string
}

// Spec is one run: the module and everything the guest may see.
type Spec struct {
	// Module is the WebAssembly binary (a WASI command exporting _start).
	Module []byte
	// ModuleHash, when not zero, is HashModule(Module), given by a caller
	// that runs the same bytes often, to spare a sha256 of them per run. It
	// is only a key: the bytes are hashed the first time (a claim that does
	// not match them fails the run with ErrHost) and compared with the
	// executor's copy of the compiled bytes on later runs, so a wrong hash
	// never runs another module than Module.
	ModuleHash Hash
	// Args are the guest's arguments after argv[0]: the guest sees
	// argv = ["module", Args...], like a shell runs a program by name.
	Args []string
	// Env is the guest's environment; it is passed sorted by key.
	Env map[string]string
	// Stdin is the guest's standard input; nil means empty.
	Stdin io.Reader
	// Mounts are read-only input directories.
	Mounts []Mount
	// OutDir is the host directory the guest sees as its writable /out.
	// "" makes a fresh temp dir; either way Result.OutDir names it and the
	// caller owns (and removes) it.
	OutDir string
	// NoOut runs without a /out directory: none is made (or removed), the
	// guest sees no /out and Result.OutDir is "". For guests that answer
	// on stdout, such as a CGI function behind the trigger gateway: it
	// saves a mkdir and a recursive remove per run. OutDir must be "".
	NoOut bool
	// Limits bound the run; zero fields take the executor's defaults.
	Limits Limits
	// Deterministic gives the guest a fixed clock (starting 2024-01-01,
	// advancing 1 µs per reading and by each sleep, without really sleeping)
	// and randomness from ChaCha8 keyed by sha256(Seed), so the same module
	// with the same inputs gives byte-identical output on any machine. When
	// false the guest sees the host clocks and crypto/rand.
	//
	// The zero Spec is not deterministic; the CLI and the job spec default
	// to deterministic and set this field.
	Deterministic bool
	// Seed keys the deterministic random source, e.g. the job ID.
	Seed []byte
	// Stdout and Stderr, when set, also receive the guest's output as it is
	// written (still counted toward Limits.MaxOutput).
	Stdout, Stderr io.Writer
}

// Result is what a run produced. A non-zero ExitCode is the guest's own
// choice, not an error.
type Result struct {
	ExitCode       uint32
	Stdout, Stderr []byte
	// OutDir is the host directory that was the guest's /out.
	OutDir string
	// OutFiles are the regular files under OutDir, relative, slash-separated,
	// in lexical order.
	OutFiles []string
	Usage    Usage
}

// Usage is what a run consumed.
type Usage struct {
	// Wall is the time from instantiation to the end of _start.
	Wall time.Duration
	// PeakMemory is the largest size of the linear memory, in bytes (memory
	// only grows, so it is also the final size).
	PeakMemory uint64
	// OutputBytes is stdout+stderr, as kept.
	OutputBytes int64
}

// Capacity is the executor's admission state, for the market's bidding.
type Capacity struct {
	// MaxConcurrent is the number of run slots; Running are in use.
	MaxConcurrent, Running int
	// FreeSlots is MaxConcurrent - Running.
	FreeSlots int
	// MemoryLimit is the default per-run memory limit, in bytes.
	MemoryLimit uint64
	// MaxMemory is the memory budget for all runs (WithMaxMemory);
	// MemoryReserved is the sum of the memory limits of the running runs and
	// FreeMemory what is left. Run does not block on the budget: it is for
	// admission before Run.
	MaxMemory, MemoryReserved, FreeMemory uint64
	// Limits are the default limits.
	Limits Limits
}

// Executor runs WASI modules in the wazero sandbox. It is safe for
// concurrent use. It owns one wazero Runtime (compiler engine) with the WASI
// host module, an in-memory table of compiled modules keyed by Hash and,
// with WithCacheDir, wazero's on-disk compilation cache.
type Executor struct {
	// rt compiles instrumented modules (internal/interrupt) and has no
	// WithCloseOnContextDone: a run is stopped through the module's stop
	// global. fallback (made on first use) has WithCloseOnContextDone and
	// runs the modules Instrument cannot rewrite.
	rt           wazero.Runtime
	fallbackOnce sync.Once
	fallback     wazero.Runtime
	fallbackErr  error
	cache        wazero.CompilationCache
	inst         *instCache // instrumented modules on disk; nil without a cache dir
	cacheDir     string     // WithCacheDir's dir, "" without one
	rc           wazero.RuntimeConfig
	// detCfg and sysCfg are the parts of every run's ModuleConfig that do
	// not change (anonymous, no start functions, argv ["module"]; sysCfg adds the host
	// clocks and crypto/rand), built once: each With* copies the config.
	detCfg, sysCfg wazero.ModuleConfig
	wasi           map[string]api.FunctionDefinition
	limits         Limits
	maxMem         uint64
	maxCompd       int
	log            *slog.Logger
	metrics        tracer
	sem            chan struct{}

	ctx    context.Context // cancelled by Close: stops running modules
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	runs     sync.WaitGroup
	modules  map[Hash]*entry
	tick     uint64
	reserved uint64 // sum of Limits.Memory of running runs

	running   atomic.Int64
	compiles  atomic.Int64 // calls into wazero's CompileModule (for tests)
	instrs    atomic.Int64 // calls into interrupt.Instrument (for tests)
	closeOnce sync.Once
	closeErr  error
}

// entry is one compiled module. ready is closed when compiled/err are set;
// concurrent first users wait on it, so a module is compiled once.
type entry struct {
	ready    chan struct{}
	compiled wazero.CompiledModule
	// instrumented is true when compiled is the module rewritten by
	// internal/interrupt (in e.rt); false for the original in e.fallback.
	instrumented bool
	info         *wasmbin.Info
	err          error
	// src is a private copy of the bytes compiled, kept once a run named
	// the entry by Spec.ModuleHash (keepSource); guarded by Executor.mu.
	src     []byte
	refs    int
	lastUse uint64
}

type config struct {
	cacheDir      string
	maxConcurrent int
	limits        Limits
	maxMemory     uint64
	maxCompiled   int
	logger        *slog.Logger
	registerer    prometheus.Registerer
}

// Option configures New.
type Option func(*config) error

// WithCacheDir keeps wazero's compilation cache in dir (created if needed),
// so a new process does not compile a module again, and next to it the
// instrumented modules (dir/cloudless-instrumented-v<N>/), so it does not
// instrument them again either. Neither is pruned by size (the
// instrumented modules of other instrumenter versions are removed). Default:
// none (memory only). The node uses <repo>/wasm-cache.
func WithCacheDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("executor: empty cache dir")
		}
		c.cacheDir = dir
		return nil
	}
}

// WithMaxConcurrent bounds the runs executing at once (default: the number
// of CPUs). Run waits for a slot.
func WithMaxConcurrent(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("executor: max concurrent %d < 1", n)
		}
		c.maxConcurrent = n
		return nil
	}
}

// WithMaxModuleSize sets the default module size limit, in bytes.
func WithMaxModuleSize(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("executor: max module size %d < 1", n)
		}
		c.limits.MaxModuleSize = n
		return nil
	}
}

// WithDefaultLimits sets the limits a Spec's zero fields take; zero fields
// here keep DefaultLimits.
func WithDefaultLimits(l Limits) Option {
	return func(c *config) error {
		c.limits = l.orDefaults(c.limits)
		return nil
	}
}

// WithMaxMemory sets the memory budget Capacity reports (default:
// MaxConcurrent × the default memory limit).
func WithMaxMemory(n uint64) Option {
	return func(c *config) error {
		c.maxMemory = n
		return nil
	}
}

// WithMaxCompiled bounds the compiled modules kept in memory (default 64);
// the least recently used one not in use is dropped past it (the disk cache
// keeps it).
func WithMaxCompiled(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("executor: max compiled %d < 1", n)
		}
		c.maxCompiled = n
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithRegisterer registers the executor's Prometheus metrics with r
// (default: no metrics).
func WithRegisterer(r prometheus.Registerer) Option {
	return func(c *config) error {
		c.registerer = r
		return nil
	}
}

// wasiModule is the only import module the sandbox provides.
const wasiModule = wasi_snapshot_preview1.ModuleName

// New builds an Executor. Defaults: DefaultLimits, MaxConcurrent = NumCPU,
// no disk cache, 64 compiled modules in memory, no logging, no metrics.
//
// # Errors
//
// A bad option, an unusable cache dir, or a metrics registration conflict.
func New(opts ...Option) (*Executor, error) {
	c := config{
		maxConcurrent: runtime.NumCPU(),
		limits:        DefaultLimits(),
		maxCompiled:   64,
		logger:        slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.maxMemory == 0 {
		c.maxMemory = uint64(c.maxConcurrent) * c.limits.Memory
	}
	e := &Executor{
		limits:   c.limits,
		maxMem:   c.maxMemory,
		maxCompd: c.maxCompiled,
		log:      c.logger.With("part", "executor"),
		metrics:  noopTracer{},
		sem:      make(chan struct{}, c.maxConcurrent),
		modules:  make(map[Hash]*entry),
	}
	if c.registerer != nil {
		m, err := newMetrics(c.registerer)
		if err != nil {
			return nil, err
		}
		e.metrics = m
	}
	// The runtime allows the full 4 GiB; each run's limit is enforced by its
	// own memory allocator, so one Runtime (and one compilation) serves runs
	// with different limits. No WithCloseOnContextDone: its check exits to
	// Go at every loop iteration; instrumented modules check a global
	// instead (internal/interrupt, docs/rationale/executor.md).
	rc := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(65536)
	if c.cacheDir != "" {
		if err := os.MkdirAll(c.cacheDir, 0o700); err != nil {
			return nil, &HostError{Op: "cache dir", Err: err}
		}
		inst, err := newInstCache(c.cacheDir)
		if err != nil {
			return nil, &HostError{Op: "cache dir", Err: err}
		}
		cache, err := wazero.NewCompilationCacheWithDir(c.cacheDir)
		if err != nil {
			return nil, &HostError{Op: "cache dir", Err: err}
		}
		e.cache, e.inst, e.cacheDir = cache, inst, c.cacheDir
		rc = rc.WithCompilationCache(cache)
	}
	e.rc = rc
	// Anonymous: a fresh instance per run, any number at once. No start
	// functions: runInstrumented arms the stop global before guest code.
	// argv[0] is "module"; a run with Args replaces the whole list.
	e.detCfg = wazero.NewModuleConfig().WithName("").WithStartFunctions().WithArgs("module")
	e.sysCfg = e.detCfg.WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader)
	var err error
	e.rt, e.wasi, err = newRuntime(rc)
	if err != nil {
		if e.cache != nil {
			_ = e.cache.Close(context.Background())
		}
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// newRuntime makes a runtime with the WASI host module instantiated.
func newRuntime(rc wazero.RuntimeConfig) (wazero.Runtime, map[string]api.FunctionDefinition, error) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	wc, err := newWASI(ctx, rt)
	if err == nil {
		_, err = rt.InstantiateModule(ctx, wc, wazero.NewModuleConfig())
	}
	if err != nil {
		_ = rt.Close(ctx)
		return nil, nil, &HostError{Op: "instantiate WASI", Err: err}
	}
	return rt, wc.ExportedFunctions(), nil
}

// fallbackRuntime returns the runtime with WithCloseOnContextDone for the
// modules Instrument refuses, making it on first use. It shares the disk
// cache: wazero's cache key covers the module bytes and that option.
func (e *Executor) fallbackRuntime() (wazero.Runtime, error) {
	e.fallbackOnce.Do(func() {
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			e.fallbackErr = ErrClosed
			return
		}
		e.fallback, _, e.fallbackErr = newRuntime(e.rc.WithCloseOnContextDone(true))
	})
	return e.fallback, e.fallbackErr
}

// Close stops running modules (their Run returns ErrClosed), waits for them
// until ctx ends, and releases the runtime. Safe to call twice.
func (e *Executor) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		e.cancel()
		done := make(chan struct{})
		go func() { e.runs.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			e.closeErr = fmt.Errorf("executor: close: %w", ctx.Err())
		}
		if err := e.rt.Close(context.Background()); err != nil && e.closeErr == nil {
			e.closeErr = err
		}
		// No fallback runtime can be made after this (closed is set), so
		// reading it here does not race with fallbackRuntime.
		e.fallbackOnce.Do(func() { e.fallbackErr = ErrClosed })
		if e.fallback != nil {
			if err := e.fallback.Close(context.Background()); err != nil && e.closeErr == nil {
				e.closeErr = err
			}
		}
		if e.cache != nil {
			if err := e.cache.Close(context.Background()); err != nil && e.closeErr == nil {
				e.closeErr = err
			}
		}
	})
	return e.closeErr
}

// Capacity reports free run slots and memory, for admission.
func (e *Executor) Capacity() Capacity {
	e.mu.Lock()
	reserved := e.reserved
	e.mu.Unlock()
	running := int(e.running.Load())
	c := Capacity{
		MaxConcurrent:  cap(e.sem),
		Running:        running,
		FreeSlots:      max(cap(e.sem)-running, 0),
		MemoryLimit:    e.limits.Memory,
		MaxMemory:      e.maxMem,
		MemoryReserved: reserved,
		Limits:         e.limits,
	}
	if reserved < e.maxMem {
		c.FreeMemory = e.maxMem - reserved
	}
	return c
}

// enter registers an operation so Close waits for it.
func (e *Executor) enter() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.runs.Add(1)
	return true
}

// Compile validates module and compiles it into the caches, without running
// it. It returns the module's hash.
//
// # Errors
//
// ErrModuleTooLarge, ErrInvalidModule, ErrMissingImport, ErrNoStart,
// ErrClosed, ErrHost.
func (e *Executor) Compile(ctx context.Context, module []byte) (h Hash, err error) {
	defer recoverHost("compile", &err)
	if int64(len(module)) > e.limits.MaxModuleSize {
		return h, &LimitError{Kind: LimitModuleSize, Limit: uint64(e.limits.MaxModuleSize),
			Detail: "module is " + FormatSize(uint64(len(module)))}
	}
	if !e.enter() {
		return h, ErrClosed
	}
	defer e.runs.Done()
	h = sha256.Sum256(module)
	en, err := e.acquire(ctx, h, module)
	if err != nil {
		return h, err
	}
	e.release(h, en)
	return h, nil
}

// acquire returns the compiled entry for module, compiling it once however
// many callers ask at the same time. The caller must release it.
func (e *Executor) acquire(ctx context.Context, h Hash, module []byte) (*entry, error) {
	e.mu.Lock()
	e.tick++
	en, ok := e.modules[h]
	if ok {
		en.refs++
		en.lastUse = e.tick
		e.mu.Unlock()
		select {
		case <-en.ready:
		case <-ctx.Done():
			e.release(h, en)
			return nil, ctx.Err()
		}
		if en.err != nil {
			e.release(h, en)
			return nil, en.err
		}
		return en, nil
	}
	en = &entry{ready: make(chan struct{}), refs: 1, lastUse: e.tick}
	e.modules[h] = en
	e.mu.Unlock()

	en.compiled, en.instrumented, en.info, en.err = e.compile(h, module)
	close(en.ready)
	if en.err != nil {
		e.release(h, en)
		return nil, en.err
	}
	return en, nil
}

// release drops a reference; failed entries leave the table at once, and
// unused ones past WithMaxCompiled are closed, least recently used first.
func (e *Executor) release(h Hash, en *entry) {
	var drop []wazero.CompiledModule
	// en.err is written by the compiling goroutine before it closes ready,
	// without e.mu; a waiter that gave up early must not read it before then.
	failed := false
	select {
	case <-en.ready:
		failed = en.err != nil
	default:
	}
	e.mu.Lock()
	en.refs--
	if failed && en.refs == 0 && e.modules[h] == en {
		delete(e.modules, h)
	}
	for len(e.modules) > e.maxCompd {
		var victim Hash
		var ve *entry
		for k, v := range e.modules {
			if v.refs == 0 && (ve == nil || v.lastUse < ve.lastUse) {
				victim, ve = k, v
			}
		}
		if ve == nil {
			break
		}
		delete(e.modules, victim)
		if ve.compiled != nil {
			drop = append(drop, ve.compiled)
		}
	}
	e.mu.Unlock()
	for _, c := range drop {
		_ = c.Close(context.Background())
	}
}

// compile instruments the module (internal/interrupt) and runs wazero's
// validation and compilation (or its disk cache lookup) on the result, then
// the sandbox's own checks: imports and _start. A module Instrument refuses,
// or whose instrumented form wazero rejects, is compiled as it is by the
// fallback runtime (WithCloseOnContextDone), which also gives wazero's own
// error for an invalid module.
//
// The in-memory table is keyed by the original's hash h; wazero's disk
// cache keys on the instrumented bytes, which are a function of the original
// and interrupt.Version, so the disk cache keeps working across restarts.
// With a cache dir the instrumented bytes are kept on disk too (instCache),
// so a new process finds wazero's cache entry without instrumenting again.
func (e *Executor) compile(h Hash, module []byte) (_ wazero.CompiledModule, instrumented bool, info *wasmbin.Info, err error) {
	defer recoverHost("compile", &err)
	e.compiles.Add(1)
	start := time.Now()
	var cm wazero.CompiledModule
	var ins []byte
	var ierr error
	stored := false
	if e.inst != nil {
		var damaged error
		ins, damaged = e.inst.get(h)
		stored = ins != nil
		if damaged != nil {
			e.log.Warn("stored instrumented module damaged; removed it and instrumenting again",
				"module", h.String(), "err", damaged)
		}
	}
	for attempt := 0; ; attempt++ {
		if ins == nil {
			e.instrs.Add(1)
			ins, ierr = interrupt.Instrument(module)
		}
		if ierr == nil {
			cm, ierr = e.compileCached(e.rt, ins, false)
			if ierr == nil {
				ierr = checkInstrumented(cm)
				if ierr != nil {
					_ = cm.Close(context.Background())
				}
			}
		}
		if ierr != nil && stored && attempt == 0 && !e.isClosed() {
			// A stored copy wazero refuses (it cannot be one Instrument
			// made from this module): forget it and instrument afresh.
			e.log.Warn("stored instrumented module refused; removed it and instrumenting again",
				"module", h.String(), "err", ierr)
			_ = os.Remove(e.inst.path(h))
			ins, ierr, stored = nil, nil, false
			continue
		}
		break
	}
	if ierr == nil && !stored && e.inst != nil {
		if perr := e.inst.put(h, ins); perr != nil {
			e.log.Debug("could not store the instrumented module", "err", perr)
		}
	}
	if ierr == nil {
		instrumented = true
	} else {
		if e.isClosed() {
			return nil, false, nil, ErrClosed
		}
		e.log.Debug("module not instrumented; deadline enforced by WithCloseOnContextDone (slow loops)",
			"size", len(module), "reason", ierr)
		rt, ferr := e.fallbackRuntime()
		if ferr != nil {
			if errors.Is(ferr, ErrClosed) || e.isClosed() {
				return nil, false, nil, ErrClosed
			}
			return nil, false, nil, ferr
		}
		if cm, err = e.compileCached(rt, module, true); err != nil {
			if e.isClosed() {
				return nil, false, nil, ErrClosed
			}
			return nil, false, nil, &InvalidModuleError{Reason: err.Error(), Err: err}
		}
	}
	e.metrics.Compiled(time.Since(start))
	e.log.Debug("module compiled", "size", len(module), "took", time.Since(start), "instrumented", instrumented)
	defer func() {
		if err != nil {
			_ = cm.Close(context.Background())
		}
	}()
	info, err = wasmbin.Parse(module)
	if err != nil {
		return nil, false, nil, &InvalidModuleError{Reason: err.Error(), Err: err}
	}
	for _, imp := range info.Imports {
		if imp.Module != wasiModule || imp.Kind != wasmbin.KindFunc || e.wasi[imp.Name] == nil {
			return nil, false, nil, &MissingImportError{Module: imp.Module, Name: imp.Name, Kind: imp.Kind.String()}
		}
	}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		want := e.wasi[name]
		if mod != wasiModule || want == nil {
			return nil, false, nil, &MissingImportError{Module: mod, Name: name, Kind: "func"}
		}
		if !slices.Equal(f.ParamTypes(), want.ParamTypes()) || !slices.Equal(f.ResultTypes(), want.ResultTypes()) {
			return nil, false, nil, &InvalidModuleError{Reason: fmt.Sprintf(
				"import %s.%s has the wrong signature", mod, name)}
		}
	}
	start_ := cm.ExportedFunctions()["_start"]
	if start_ == nil {
		return nil, false, nil, ErrNoStart
	}
	if len(start_.ParamTypes()) != 0 || len(start_.ResultTypes()) != 0 {
		return nil, false, nil, &InvalidModuleError{Reason: "_start must take and return nothing"}
	}
	return cm, instrumented, info, nil
}

// compileCached is rt.CompileModule, plus one retry when it failed because
// of a damaged entry in wazero's disk cache: wazero v1.12 keeps returning
// the error while the file is there, so the entry is removed
// (removeWazeroEntry), one line logged, and the module compiled afresh.
// ensureTermination says whether rt has WithCloseOnContextDone (part of
// wazero's cache key).
func (e *Executor) compileCached(rt wazero.Runtime, wasm []byte, ensureTermination bool) (wazero.CompiledModule, error) {
	cm, err := rt.CompileModule(context.Background(), wasm)
	if err != nil && e.cacheDir != "" && !e.isClosed() && removeWazeroEntry(e.cacheDir, wasm, ensureTermination) {
		e.log.Warn("compilation cache entry unreadable; removed it and compiling again", "err", err)
		cm, err = rt.CompileModule(context.Background(), wasm)
	}
	return cm, err
}

// checkInstrumented checks what the validator could not: the function the
// start section named (now exported as interrupt.StartExport) must take and
// return nothing. Otherwise the caller falls back to the original, whose
// start section wazero then rejects with its own message.
func checkInstrumented(cm wazero.CompiledModule) error {
	if f := cm.ExportedFunctions()[interrupt.StartExport]; f != nil &&
		(len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0) {
		return errors.New("start function must take and return nothing")
	}
	return nil
}

func (e *Executor) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Run runs spec.Module's _start in a fresh instance and returns what it
// produced. It waits for a free slot (WithMaxConcurrent) until ctx ends, and
// compiles the module (if no cache has it) inside that slot, so compilation
// CPU is bounded too; the run's deadline starts at instantiation.
//
// When the run started but the sandbox stopped it (a limit, a trap), Run
// returns both the partial Result (output so far, /out, usage) and the error.
//
// # Errors
//
// Before running: ErrModuleTooLarge, ErrStdinTooLarge (when the size is
// known), ErrInvalidModule, ErrMissingImport, ErrNoStart, ErrMemoryLimit (the
// declared minimum is over the limit), ErrHost (bad Spec, out dir), ErrClosed,
// ctx.Err(). While running: ErrDeadline, ErrMemoryLimit, ErrOutputLimit,
// ErrStdinTooLarge, ErrTrap, ErrHost, ErrClosed, or the cause of ctx.
func (e *Executor) Run(ctx context.Context, spec Spec) (res *Result, err error) {
	start := time.Now()
	defer func() {
		oc := outcome(res, err)
		e.metrics.RunDone(oc, time.Since(start))
		if e.log.Enabled(context.Background(), slog.LevelDebug) {
			attrs := []any{"outcome", oc, "took", time.Since(start), "module_size", len(spec.Module)}
			if res != nil {
				attrs = append(attrs, "exit_code", res.ExitCode, "wall", res.Usage.Wall,
					"peak_memory", res.Usage.PeakMemory, "output_bytes", res.Usage.OutputBytes)
			}
			if err != nil {
				attrs = append(attrs, "err", err)
			}
			e.log.Debug("run done", attrs...)
		}
	}()
	defer recoverHost("run", &err)

	lim := spec.Limits.orDefaults(e.limits)
	if int64(len(spec.Module)) > lim.MaxModuleSize {
		return nil, &LimitError{Kind: LimitModuleSize, Limit: uint64(lim.MaxModuleSize),
			Detail: "module is " + FormatSize(uint64(len(spec.Module)))}
	}
	if n, ok := knownSize(spec.Stdin); ok && n > lim.MaxStdin {
		return nil, &LimitError{Kind: LimitStdin, Limit: uint64(lim.MaxStdin),
			Detail: "stdin is " + FormatSize(uint64(n))}
	}
	if err := checkMounts(spec.Mounts); err != nil {
		return nil, err
	}
	ge, err := newGuestEnv(spec.Env)
	if err != nil {
		return nil, err
	}
	if !e.enter() {
		return nil, ErrClosed
	}
	defer e.runs.Done()

	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-e.ctx.Done():
		return nil, ErrClosed
	}
	e.running.Add(1)
	e.mu.Lock()
	e.reserved += lim.Memory
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.reserved -= lim.Memory
		e.mu.Unlock()
		e.running.Add(-1)
		<-e.sem
	}()

	h, keep, err := e.moduleHash(&spec)
	if err != nil {
		return nil, err
	}
	module := spec.Module
	if keep != nil {
		module = keep
	}
	en, err := e.acquire(ctx, h, module)
	if err != nil {
		return nil, err
	}
	defer e.release(h, en)
	if keep != nil {
		e.keepSource(en, keep)
	}
	if en.info.HasMemory && en.info.MinMemoryPages > lim.Memory/65536 { // no overflow on huge minimums
		return nil, &LimitError{Kind: LimitMemory, Limit: lim.Memory,
			Detail: "module declares a minimum of " + FormatSize(en.info.MinMemoryPages*65536)}
	}

	return e.run(ctx, en, &spec, lim, ge)
}

func (e *Executor) run(ctx context.Context, en *entry, spec *Spec, lim Limits, ge *guestEnv) (*Result, error) {
	var outDir string
	var madeOut bool
	var err error
	if spec.NoOut {
		if spec.OutDir != "" {
			return nil, &HostError{Op: "out dir", Err: errors.New("Spec.NoOut with an OutDir")}
		}
	} else if outDir, madeOut, err = prepareOut(spec.OutDir); err != nil {
		return nil, err
	}
	keepOut := false
	defer func() {
		if madeOut && !keepOut {
			_ = os.RemoveAll(outDir)
		}
	}()

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopOnClose := context.AfterFunc(e.ctx, func() { cancel(ErrClosed) })
	defer stopOnClose()
	runCtx, cancelT := context.WithTimeoutCause(runCtx, lim.Timeout, errDeadline)
	defer cancelT()

	out := &output{limit: lim.MaxOutput, onExceed: func() { cancel(errOutputLimit) }}
	stdout := &stream{o: out, tee: spec.Stdout}
	stderr := &stream{o: out, tee: spec.Stderr}
	mem := &memory{limit: lim.Memory}
	// Deferred: run returns only after the instance's last call did, so
	// no guest code can touch the buffers once they are pooled.
	defer mem.recycle()

	// The constant part comes from the executor (detCfg, sysCfg); every
	// With* copies the config, so only the per-run parts are added here.
	// The environment is not among them: it travels in runCtx to the
	// executor's own environ_get (environ.go).
	cfg := e.sysCfg
	if spec.Deterministic {
		cfg = e.detCfg
	}
	if spec.Deterministic {
		clk := &fakeClock{}
		cfg = cfg.WithWalltime(clk.walltime, sys.ClockResolution(1000)).
			WithNanotime(clk.nanotime, sys.ClockResolution(1000)).
			WithNanosleep(clk.nanosleep).
			WithRandSource(seededRand(spec.Seed))
	}
	if len(spec.Args) > 0 {
		cfg = cfg.WithArgs(append([]string{"module"}, spec.Args...)...)
	}
	cfg = cfg.WithStdout(stdout).WithStderr(stderr)
	var in *stdin
	if spec.Stdin != nil {
		in = &stdin{r: spec.Stdin, limit: lim.MaxStdin, onExceed: func() { cancel(errStdinLimit) }}
		cfg = cfg.WithStdin(in)
	}
	fsc := wazero.NewFSConfig().(sysfs.FSConfig)
	for _, m := range spec.Mounts {
		g, err := guardfs.New(m.HostPath, true)
		if err != nil {
			return nil, &HostError{Op: "mount " + m.GuestPath, Err: err}
		}
		fsc = fsc.WithSysFSMount(g, path.Clean(m.GuestPath)).(sysfs.FSConfig)
	}
	if outDir != "" {
		g, err := guardfs.New(outDir, false)
		if err != nil {
			return nil, &HostError{Op: "mount /out", Err: err}
		}
		fsc = fsc.WithSysFSMount(g, "/out").(sysfs.FSConfig)
	}
	if len(spec.Mounts) > 0 || outDir != "" {
		cfg = cfg.WithFSConfig(fsc.(wazero.FSConfig)) // none: no preopens, as with an empty one
	}
	runCtx = withGuestEnv(experimental.WithMemoryAllocator(runCtx, mem), ge)
	t0 := time.Now()
	var ierr error
	if en.instrumented {
		ierr = e.runInstrumented(runCtx, en.compiled, cfg)
	} else {
		// Fallback: wazero closes the module when runCtx ends.
		var mod api.Module
		mod, ierr = e.fallback.InstantiateModule(runCtx, en.compiled, cfg.WithStartFunctions("_start"))
		if mod != nil {
			_ = mod.Close(context.Background())
		}
	}
	wall := time.Since(t0)
	cause := context.Cause(runCtx)

	res := &Result{
		Stdout: stdout.buf.Bytes(),
		Stderr: stderr.buf.Bytes(),
		OutDir: outDir,
		Usage:  Usage{Wall: wall, PeakMemory: mem.peak.Load(), OutputBytes: out.n},
	}
	if outDir != "" {
		files, lerr := listFiles(outDir)
		if lerr != nil {
			return nil, &HostError{Op: "list /out", Err: lerr}
		}
		res.OutFiles = files
	}
	keepOut = true

	var exitErr *sys.ExitError
	switch {
	case errors.Is(cause, errOutputLimit) || out.exceeded:
		return res, &LimitError{Kind: LimitOutput, Limit: uint64(lim.MaxOutput)}
	case errors.Is(cause, errStdinLimit) || (in != nil && in.exceeded.Load()):
		return res, &LimitError{Kind: LimitStdin, Limit: uint64(lim.MaxStdin)}
	case errors.Is(cause, errDeadline):
		return res, &LimitError{Kind: LimitDeadline, Timeout: lim.Timeout}
	case errors.Is(cause, ErrClosed) || e.ctx.Err() != nil:
		// Close stopped the module (or closed the runtime under it, which
		// looks like a clean exit 0 to wazero): never report that as success.
		return res, ErrClosed
	case ctx.Err() != nil:
		// The caller gave up. The guest may have exited on its own in the
		// meantime (say, on the read error a cancelled stdin returned)
		// before it reached a stop check, so look at the caller's ctx
		// itself, not only at how the run ended.
		return res, context.Cause(ctx)
	case ierr == nil:
		return res, nil
	case errors.As(ierr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if mem.refused.Load() && res.ExitCode != 0 {
			return res, &LimitError{Kind: LimitMemory, Limit: lim.Memory,
				Detail: fmt.Sprintf("memory.grow refused, module exited with %d", res.ExitCode), Err: ierr}
		}
		return res, nil
	}
	if trap := asTrap(ierr); trap != nil {
		if mem.refused.Load() {
			return res, &LimitError{Kind: LimitMemory, Limit: lim.Memory, Err: trap}
		}
		return res, trap
	}
	return res, &HostError{Op: "run", Err: ierr}
}

// runInstrumented instantiates an instrumented module without running
// anything, arms the stop global (any end of runCtx — deadline, output or
// stdin cap, caller cancel, Close — sets it, and the guest traps with
// "unreachable" at its next loop iteration or function entry), then calls the
// start function the binary had, if any, and _start. Run classifies the
// outcome by runCtx's cause, as for the fallback runtime.
func (e *Executor) runInstrumented(runCtx context.Context, cm wazero.CompiledModule, cfg wazero.ModuleConfig) error {
	// No start functions (cfg derives from detCfg or sysCfg, which have
	// none): the instance must exist, and the stop armed, before any guest
	// code runs.
	mod, err := e.rt.InstantiateModule(runCtx, cm, cfg)
	if err != nil {
		if mod != nil {
			_ = mod.Close(context.Background())
		}
		return err
	}
	defer mod.Close(context.Background())
	g, ok := mod.ExportedGlobal(interrupt.StopExport).(api.MutableGlobal)
	if !ok {
		return fmt.Errorf("instrumented module has no mutable %s", interrupt.StopExport)
	}
	st := &stopper{g: g}
	unwatch := context.AfterFunc(runCtx, st.stop)
	defer func() {
		unwatch()
		st.finish()
	}()
	for _, name := range []string{interrupt.StartExport, "_start"} {
		fn := mod.ExportedFunction(name)
		if fn == nil {
			continue
		}
		if _, err := fn.Call(runCtx); err != nil {
			var exit *sys.ExitError
			if errors.As(err, &exit) {
				if exit.ExitCode() == 0 {
					return nil
				}
				return exit
			}
			return fmt.Errorf("function[%s] failed: %w", name, err)
		}
	}
	return nil
}

// stopper sets a run's stop global once, and never after the run ended
// (the instance is closed then). Writes from the watcher goroutine and the
// guest's goroutine are serialised by mu; the guest's native loads of the
// global see the store on their next check.
type stopper struct {
	mu       sync.Mutex
	g        api.MutableGlobal
	stopped  bool
	finished bool
}

func (s *stopper) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped && !s.finished {
		s.stopped = true
		s.g.Set(1)
	}
}

func (s *stopper) finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
}

// asTrap finds wazero's internal wasmruntime.Error in err's chain (the trap
// the engine raised) and returns it as a *TrapError.
func asTrap(err error) *TrapError {
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer && t.Elem().Name() == "Error" &&
			t.Elem().PkgPath() == "github.com/tetratelabs/wazero/internal/wasmruntime" {
			stack := err.Error()
			if i := strings.Index(stack, "wasm stack trace:"); i >= 0 {
				stack = stack[i:]
			}
			return &TrapError{Kind: TrapKind(e.Error()), Stack: stack}
		}
	}
	return nil
}

// recoverHost turns a panic into a *HostError in *err. No panic, whatever
// the module does, leaves the executor.
func recoverHost(op string, err *error) {
	if r := recover(); r != nil {
		*err = &HostError{Op: op, Err: fmt.Errorf("panic: %v", r)}
	}
}

// knownSize returns the size of r when it can tell without reading.
func knownSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case nil:
		return 0, true
	case interface{ Len() int }:
		return int64(v.Len()), true
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				return st.Size() - off, true
			}
		}
	}
	return 0, false
}

func checkMounts(ms []Mount) error {
	for _, m := range ms {
		g := path.Clean(m.GuestPath)
		if !path.IsAbs(m.GuestPath) {
			return &HostError{Op: "mount " + m.GuestPath, Err: errors.New("guest path must be absolute")}
		}
		if g == "/out" || strings.HasPrefix(g, "/out/") {
			return &HostError{Op: "mount " + m.GuestPath, Err: errors.New("/out is the output directory")}
		}
		st, err := os.Stat(m.HostPath)
		if err != nil {
			return &HostError{Op: "mount " + m.GuestPath, Err: err}
		}
		if !st.IsDir() {
			return &HostError{Op: "mount " + m.GuestPath, Err: fmt.Errorf("%s is not a directory", m.HostPath)}
		}
	}
	return nil
}

func prepareOut(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "cloudless-out-*")
		if err != nil {
			return "", false, &HostError{Op: "out dir", Err: err}
		}
		return d, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, &HostError{Op: "out dir", Err: err}
	}
	return dir, false, nil
}

func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}
