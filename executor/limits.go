package executor

import "time"

// Limits bound one run. A zero field means "use the executor's default"
// (see DefaultLimits and WithDefaultLimits).
type Limits struct {
	// Memory caps the module's linear memory, in bytes. A module whose
	// declared minimum is larger is refused before it runs; a memory.grow past
	// the cap fails (returns -1 to the guest).
	Memory uint64
	// Timeout is the wall-clock deadline of the run, from instantiation to
	// the end of _start. The sandbox stops the module when it passes.
	Timeout time.Duration
	// MaxOutput caps stdout+stderr together, in bytes. The module is stopped
	// at the first write past the cap.
	MaxOutput int64
	// MaxStdin caps the bytes read from Spec.Stdin.
	MaxStdin int64
	// MaxModuleSize caps the module binary, in bytes.
	MaxModuleSize int64
}

// Default limits. They fit a small function on a shared machine: 64 MiB is
// enough for C and Go (wasip1) programs of a few MB; 2 s keeps a spinning
// module from holding a slot; 1 MiB of output is a lot of text but little
// memory per concurrent run.
const (
	DefaultMemory        = 64 * MiB
	DefaultTimeout       = 2 * time.Second
	DefaultMaxOutput     = int64(1 * MiB)
	DefaultMaxStdin      = int64(64 * MiB)
	DefaultMaxModuleSize = int64(64 * MiB)
)

// DefaultLimits returns memory 64 MiB, timeout 2 s, output 1 MiB, stdin 64 MiB,
// module 64 MiB.
func DefaultLimits() Limits {
	return Limits{
		Memory:        DefaultMemory,
		Timeout:       DefaultTimeout,
		MaxOutput:     DefaultMaxOutput,
		MaxStdin:      DefaultMaxStdin,
		MaxModuleSize: DefaultMaxModuleSize,
	}
}

// orDefaults fills the zero fields of l from d.
func (l Limits) orDefaults(d Limits) Limits {
	if l.Memory == 0 {
		l.Memory = d.Memory
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = d.MaxOutput
	}
	if l.MaxStdin <= 0 {
		l.MaxStdin = d.MaxStdin
	}
	if l.MaxModuleSize <= 0 {
		l.MaxModuleSize = d.MaxModuleSize
	}
	return l
}
