package executor

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error Run, Compile and New return matches exactly one
// of these with errors.Is; the typed errors below carry the details.
var (
	// ErrInvalidModule is returned when the bytes are not a valid WebAssembly
	// module (bad magic, failed validation, unsupported feature).
	ErrInvalidModule = errors.New("invalid module")
	// ErrMissingImport is returned (as *MissingImportError) when the module
	// imports anything but a wasi_snapshot_preview1 function.
	ErrMissingImport = errors.New("missing import")
	// ErrNoStart is returned when the module exports no `_start` function.
	ErrNoStart = errors.New("module has no _start")
	// ErrDeadline is returned (as *LimitError) when the run's wall-clock
	// deadline passed and the sandbox stopped the module.
	ErrDeadline = errors.New("deadline exceeded")
	// ErrMemoryLimit is returned (as *LimitError) when the module declares
	// more memory than the limit, or failed after a refused memory.grow.
	ErrMemoryLimit = errors.New("memory limit exceeded")
	// ErrOutputLimit is returned (as *LimitError) when stdout+stderr reached
	// the cap; the module is stopped at that point.
	ErrOutputLimit = errors.New("output limit exceeded")
	// ErrModuleTooLarge is returned (as *LimitError) before compiling a module
	// larger than Limits.MaxModuleSize.
	ErrModuleTooLarge = errors.New("module too large")
	// ErrStdinTooLarge is returned (as *LimitError) when stdin is larger than
	// Limits.MaxStdin.
	ErrStdinTooLarge = errors.New("stdin too large")
	// ErrTrap is returned (as *TrapError) when the module trapped.
	ErrTrap = errors.New("trap")
	// ErrHost is returned (as *HostError) when the host side failed: an I/O
	// error setting up the run, a recovered panic, a bad Spec.
	ErrHost = errors.New("host error")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("executor closed")
)

// LimitKind names the limit a LimitError is about.
type LimitKind int

// Limit kinds.
const (
	LimitMemory LimitKind = iota + 1
	LimitDeadline
	LimitOutput
	LimitModuleSize
	LimitStdin
)

func (k LimitKind) String() string {
	switch k {
	case LimitMemory:
		return "memory"
	case LimitDeadline:
		return "deadline"
	case LimitOutput:
		return "output"
	case LimitModuleSize:
		return "module size"
	case LimitStdin:
		return "stdin"
	}
	return fmt.Sprintf("LimitKind(%d)", int(k))
}

func (k LimitKind) sentinel() error {
	switch k {
	case LimitMemory:
		return ErrMemoryLimit
	case LimitDeadline:
		return ErrDeadline
	case LimitOutput:
		return ErrOutputLimit
	case LimitModuleSize:
		return ErrModuleTooLarge
	case LimitStdin:
		return ErrStdinTooLarge
	}
	return nil
}

// LimitError reports that the sandbox stopped or refused a run because of a
// limit. Error() is one line naming the cause and the limit, e.g.
// "deadline of 2s exceeded" or "memory limit of 64 MiB exceeded".
type LimitError struct {
	Kind LimitKind
	// Limit is the limit in bytes for size kinds.
	Limit uint64
	// Timeout is the limit for LimitDeadline.
	Timeout time.Duration
	// Detail adds facts after a colon, e.g. what the module declared.
	Detail string
	// Err is the underlying failure the limit caused, if any (e.g. the trap
	// after a refused memory.grow).
	Err error
}

func (e *LimitError) Error() string {
	var s string
	if e.Kind == LimitDeadline {
		s = fmt.Sprintf("deadline of %s exceeded", e.Timeout)
	} else {
		s = fmt.Sprintf("%s limit of %s exceeded", e.Kind, FormatSize(e.Limit))
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches the sentinel of the kind.
func (e *LimitError) Is(target error) bool { return target == e.Kind.sentinel() }

// Unwrap returns the underlying failure, if any.
func (e *LimitError) Unwrap() error { return e.Err }

// MissingImportError names an import the sandbox does not provide.
type MissingImportError struct {
	Module, Name string
	// Kind is "func", "memory", "table", "global" or "tag".
	Kind string
}

func (e *MissingImportError) Error() string {
	s := "missing import " + e.Module + "." + e.Name
	if e.Kind != "" && e.Kind != "func" {
		s += " (" + e.Kind + ")"
	}
	return s
}

// Is matches ErrMissingImport.
func (e *MissingImportError) Is(target error) bool { return target == ErrMissingImport }

// TrapKind is the WebAssembly trap, as wazero names it.
type TrapKind string

// Trap kinds wazero reports (internal/wasmruntime).
const (
	TrapStackOverflow              TrapKind = "stack overflow"
	TrapUnreachable                TrapKind = "unreachable"
	TrapOutOfBoundsMemoryAccess    TrapKind = "out of bounds memory access"
	TrapIntegerDivideByZero        TrapKind = "integer divide by zero"
	TrapIntegerOverflow            TrapKind = "integer overflow"
	TrapInvalidConversionToInteger TrapKind = "invalid conversion to integer"
	TrapInvalidTableAccess         TrapKind = "invalid table access"
	TrapIndirectCallTypeMismatch   TrapKind = "indirect call type mismatch"
	TrapUnalignedAtomic            TrapKind = "unaligned atomic"
	TrapUncaughtException          TrapKind = "uncaught exception"
	TrapNullReference              TrapKind = "null reference"
)

// TrapError reports that the module trapped.
type TrapError struct {
	Kind TrapKind
	// Stack is wazero's wasm stack trace, for logs; not part of Error().
	Stack string
}

func (e *TrapError) Error() string {
	if e.Kind == TrapUnreachable {
		return "unreachable executed"
	}
	return string(e.Kind)
}

// Is matches ErrTrap.
func (e *TrapError) Is(target error) bool { return target == ErrTrap }

// HostError reports a failure on the host side of the sandbox.
type HostError struct {
	Op  string
	Err error
}

func (e *HostError) Error() string {
	if e.Err == nil {
		return "host error: " + e.Op
	}
	return "host error: " + e.Op + ": " + e.Err.Error()
}

// Is matches ErrHost.
func (e *HostError) Is(target error) bool { return target == ErrHost }

// Unwrap returns the cause.
func (e *HostError) Unwrap() error { return e.Err }

// InvalidModuleError reports why a module was rejected; Error() is
// "invalid module: <reason>".
type InvalidModuleError struct {
	Reason string
	Err    error
}

func (e *InvalidModuleError) Error() string { return "invalid module: " + e.Reason }

// Is matches ErrInvalidModule.
func (e *InvalidModuleError) Is(target error) bool { return target == ErrInvalidModule }

// Unwrap returns the cause from wazero, if any.
func (e *InvalidModuleError) Unwrap() error { return e.Err }
