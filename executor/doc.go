// Package executor is cloudless's WebAssembly sandbox: it runs an untrusted
// WASI (wasi_snapshot_preview1) command module with only what the job gives
// it, under limits the runtime enforces, and reports what happened.
//
//	ex, err := executor.New(executor.WithCacheDir(filepath.Join(repo, "wasm-cache")))
//	if err != nil { ... }
//	defer ex.Close(ctx)
//	res, err := ex.Run(ctx, executor.Spec{
//		Module:        wasm,
//		Args:          []string{"--size", "256"}, // argv = ["module", "--size", "256"]
//		Stdin:         bytes.NewReader(input),
//		Mounts:        []executor.Mount{{HostPath: dataDir, GuestPath: "/data"}},
//		Deterministic: true,
//		Seed:          []byte(jobID),
//	})
//	// err is nil or one line such as "deadline of 2s exceeded";
//	// res.ExitCode is the module's own exit code.
//
// # What a run sees
//
// Arguments (argv[0] is always "module"), the environment (sorted by key),
// stdin, the read-only directories in Spec.Mounts, and a writable /out backed
// by Spec.OutDir or a fresh temp dir. No other host file, no network, no
// import but the WASI preview1 functions: a module importing anything else is
// refused before it runs with a *MissingImportError naming it. The mounts are
// confined: the guest cannot create symlinks and cannot follow one out of its
// directory (internal/guardfs). The WASI functions are wazero's, except
// environ_sizes_get and environ_get, which the executor implements to read
// the run's environment from its context (no per-variable config copies).
// Linear memories come from a pool of zeroed buffers: a run never sees a
// byte another run wrote.
//
// With Spec.Deterministic the clocks are fake (2024-01-01 plus 1 µs per
// reading; sleeps advance the clock instead of sleeping) and random_get reads
// ChaCha8 keyed by sha256(Spec.Seed), so the same module and inputs give
// byte-identical outputs on any machine.
//
// # Limits
//
// Limits (see DefaultLimits): linear memory (a module declaring a larger
// minimum is refused before running; a memory.grow past it fails and, if the
// module then fails, the run reports the memory limit), wall-clock deadline
// (the module is stopped when it passes), stdout+stderr bytes (kept up to the
// cap; the write past it stops the module), module size, stdin size, and
// WithMaxConcurrent runs at once.
//
// # Stopping a module
//
// The executor does not use wazero's WithCloseOnContextDone, whose check
// exits to Go at every loop iteration (SHA-256 ran 34.6× slower than native
// with it). It instruments each module before compiling it
// (internal/interrupt): a fuel counter decremented in native code right
// after every loop header and at the entry of every function that makes
// calls (every cycle of the control flow passes one), with a call every
// 16,384 checks that reads the stop flag and exits to Go so the Go scheduler
// can preempt the guest. A deadline, the output or stdin cap, the
// caller's cancel or Close sets the flag and the guest traps at its next
// check; Run reports the cause. A start section is run by the executor right
// after instantiation, under the same deadline. A module the instrumenter
// cannot rewrite (threads, exceptions, an unknown opcode) falls back to a
// second runtime with WithCloseOnContextDone: stoppable, but slow in tight
// loops (logged at debug level). See docs/rationale/executor.md, "Why
// instrument modules instead of WithCloseOnContextDone?".
//
// # Compilation
//
// One wazero Runtime (compiler engine) per Executor, plus the fallback
// runtime when a module needs it. A module is compiled once per content
// hash (of the original bytes; the instrumented bytes are what wazero's disk
// cache keys on): concurrent first runs wait for one compilation, the
// CompiledModule is shared by later runs, and with WithCacheDir wazero's
// on-disk compilation cache lets a new process skip compiling; the
// instrumented bytes are kept there too (keyed by the original's hash and
// the instrumenter's version, checksummed), so a new process does not
// instrument again either. A damaged file in either cache (truncated,
// checksum mismatch) costs one warning line and a fresh compile, never a
// failed or unstoppable run. The instrumenter also merges a module's data
// segments when that leaves its initial memory unchanged, which makes
// decoding and instantiating Go modules (≈ 30k segments) faster. Every run
// gets a fresh, anonymous instance.
//
// A disk-cache hit in a new process costs what bare wazero's does plus
// ≈ 15%: wazero decodes and validates the whole module and reads its
// cached machine code before it can use it, so it stays ≈ 6–8× faster than
// a cold compile, not 20× (docs/rationale/executor.md, "Why is a
// new-process disk hit not 20× faster than a cold compile?"). A node keeps
// compiled modules in memory: a repeated run costs one sha256 of the
// module, or a byte comparison when the caller names it by
// Spec.ModuleHash (HashModule), as the gateway's local invoker does.
//
// # Errors
//
// Every failure matches one sentinel (ErrInvalidModule, ErrMissingImport,
// ErrNoStart, ErrDeadline, ErrMemoryLimit, ErrOutputLimit, ErrModuleTooLarge,
// ErrStdinTooLarge, ErrTrap, ErrHost, ErrClosed) and most carry a typed error
// (*LimitError, *MissingImportError, *TrapError, *HostError,
// *InvalidModuleError) whose Error() is the one line the CLI prints. No Go
// panic leaves Run or Compile.
//
// Design notes: docs/rationale/executor.md. Figures: docs/benchmarks/executor.md.
package executor

//go:generate sh testdata/build.sh
