package executor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The guest's environment does not go through wazero's ModuleConfig.
// WithEnv copies the whole config (its map of keys included) once per
// variable, and a CGI request brings ≈ 22 variables that differ from one
// request to the next, so no config can be reused. Instead the WASI host
// module the executor instantiates is wazero's with two functions
// replaced, environ_sizes_get and environ_get, which read the run's
// environment from the context of the call (the run's context carries it,
// built once per run in one buffer). Every other WASI function is
// wazero's own (docs/rationale/executor.md, "Why own environ_get?").

// guestEnv is a run's environment the way WASI hands it over: every
// variable as "KEY=value\x00", sorted by key, in one buffer, and where in
// it each starts.
type guestEnv struct {
	buf  []byte
	offs []uint32
}

type guestEnvKey struct{}

// errnoFault is WASI's EFAULT: a pointer the guest gave is outside its
// memory.
const errnoFault = 21

// newGuestEnv builds env's WASI form. It refuses what wazero's WithEnv
// refused at instantiation (an empty key, '=' in a key, NUL anywhere) with
// a *HostError, before anything runs.
func newGuestEnv(env map[string]string) (*guestEnv, error) {
	if len(env) == 0 {
		return nil, nil
	}
	// On the stack when small: no allocation, and no write barriers
	// while sorting during a collection.
	var small [48]envVar
	vars := small[:0]
	n := 0
	for k, v := range env {
		vars = append(vars, envVar{k, v})
		n += len(k) + len(v) + 2
	}
	slices.SortFunc(vars, func(a, b envVar) int { return strings.Compare(a.k, b.k) })
	if n > math.MaxUint32 {
		return nil, &HostError{Op: "env", Err: errors.New("environment larger than 4 GiB")}
	}
	ge := &guestEnv{buf: make([]byte, 0, n), offs: make([]uint32, len(vars))}
	for i, kv := range vars {
		switch {
		case kv.k == "":
			return nil, &HostError{Op: "env", Err: errors.New("empty variable name")}
		case strings.IndexByte(kv.k, '=') >= 0:
			return nil, &HostError{Op: "env", Err: fmt.Errorf("variable name %.40q contains '='", kv.k)}
		case strings.IndexByte(kv.k, 0) >= 0 || strings.IndexByte(kv.v, 0) >= 0:
			return nil, &HostError{Op: "env", Err: fmt.Errorf("variable %.40q contains NUL", kv.k)}
		}
		ge.offs[i] = uint32(len(ge.buf))
		ge.buf = append(ge.buf, kv.k...)
		ge.buf = append(ge.buf, '=')
		ge.buf = append(ge.buf, kv.v...)
		ge.buf = append(ge.buf, 0)
	}
	return ge, nil
}

type envVar struct{ k, v string }

// withGuestEnv returns ctx carrying ge for the run's environ_* calls.
func withGuestEnv(ctx context.Context, ge *guestEnv) context.Context {
	if ge == nil {
		return ctx
	}
	return context.WithValue(ctx, guestEnvKey{}, ge)
}

// noEnv is the environment of a run without variables (read only).
var noEnv guestEnv

func guestEnvFrom(ctx context.Context) *guestEnv {
	if ge, _ := ctx.Value(guestEnvKey{}).(*guestEnv); ge != nil {
		return ge
	}
	return &noEnv
}

// environSizesGet is WASI's environ_sizes_get(environc_ptr,
// environ_buf_size_ptr) -> errno. Both pointers are checked before
// anything is written.
func environSizesGet(ctx context.Context, mod api.Module, stack []uint64) {
	ge := guestEnvFrom(ctx)
	mem := mod.Memory()
	if mem == nil {
		stack[0] = errnoFault
		return
	}
	count, ok1 := mem.Read(uint32(stack[0]), 4)
	size, ok2 := mem.Read(uint32(stack[1]), 4)
	if !ok1 || !ok2 {
		stack[0] = errnoFault
		return
	}
	binary.LittleEndian.PutUint32(count, uint32(len(ge.offs)))
	binary.LittleEndian.PutUint32(size, uint32(len(ge.buf)))
	stack[0] = 0
}

// environGet is WASI's environ_get(environ_ptr, environ_buf_ptr) -> errno:
// the pointers to each variable at environ_ptr (little-endian u32s), the
// variables at environ_buf_ptr. Both ranges are checked before anything
// is written, as wazero's does.
func environGet(ctx context.Context, mod api.Module, stack []uint64) {
	ge := guestEnvFrom(ctx)
	environ, environBuf := uint32(stack[0]), uint32(stack[1])
	mem := mod.Memory()
	if mem == nil || 4*len(ge.offs) > math.MaxUint32 {
		stack[0] = errnoFault
		return
	}
	ptrs, ok1 := mem.Read(environ, uint32(4*len(ge.offs)))
	vars, ok2 := mem.Read(environBuf, uint32(len(ge.buf)))
	if !ok1 || !ok2 {
		stack[0] = errnoFault
		return
	}
	for i, off := range ge.offs {
		// environBuf+len(buf) is within the memory (Read checked it), so
		// environBuf+off cannot wrap.
		binary.LittleEndian.PutUint32(ptrs[4*i:], environBuf+off)
	}
	copy(vars, ge.buf)
	stack[0] = 0
}

// newWASI compiles the WASI host module: wazero's wasi_snapshot_preview1
// with environ_sizes_get and environ_get replaced by the executor's.
func newWASI(ctx context.Context, rt wazero.Runtime) (wazero.CompiledModule, error) {
	b := rt.NewHostModuleBuilder(wasiModule)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environSizesGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("result.environc", "result.environv_len").WithResultNames("errno").
		Export("environ_sizes_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("environ", "environ_buf").WithResultNames("errno").
		Export("environ_get")
	return b.Compile(ctx)
}
