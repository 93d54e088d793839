package market

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"

	"github.com/cloudless-network/cloudless/executor"
)

// Running small jobs from memory (issue 9, provider CPU per job): the
// provider keeps the modules it runs, by CID, with their executor hash
// and whether they can reach a file at all (executor.NeedsFiles); a job
// whose module cannot, and that has no inputs, runs without a /out and
// without a scratch directory, its stdout and stderr hashed and inlined
// from memory. Its UnixFS import writes no file either when Content is a
// FilesAdder (the node's store is: storage.Store.AddFiles); otherwise the
// output is laid out on a memory file system (/dev/shm) when it is small
// and imported with Content.AddDir. See docs/rationale/market.md,
// "Why run small jobs from memory?", and
// docs/benchmarks/provider-throughput.md.

// moduleCacheBytes bounds the module bytes a provider keeps; a module
// bigger than a quarter of it is not kept.
const moduleCacheBytes = 256 << 20

// memLayoutMax is the largest output (stdout + stderr) laid out on the
// memory file system for its import; bigger ones go to WorkDir.
const memLayoutMax = 1 << 20

// module is a job's module as execJob needs it.
type module struct {
	b    []byte
	hash executor.Hash // zero: let the executor hash the bytes
	// files: the module imports a WASI call that can reach a file
	// (executor.NeedsFiles), so it runs with a /out on disk.
	files bool
}

// moduleSource is a Content that keeps modules (modCache); execJob uses
// it when its Content has it.
type moduleSource interface {
	module(ctx context.Context, cid string, max int64) (*module, error)
}

// modCache keeps modules by CID (the bytes of a CID never change), up to
// moduleCacheBytes, evicting the oldest first. The zero value is ready.
type modCache struct {
	mu    sync.Mutex
	m     map[string]*module
	order []string // insertion order, for eviction
	size  int
}

func (c *modCache) get(cid string) *module {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[cid]
}

func (c *modCache) put(cid string, m *module) {
	if len(m.b) > moduleCacheBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*module{}
	}
	if _, ok := c.m[cid]; ok {
		return
	}
	for c.size+len(m.b) > moduleCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= len(c.m[old].b)
		delete(c.m, old)
	}
	c.m[cid] = m
	c.order = append(c.order, cid)
	c.size += len(m.b)
}

// cachedContent is the provider's Content with its module cache.
type cachedContent struct {
	Content
	mods *modCache
}

var _ moduleSource = cachedContent{}

func (c cachedContent) module(ctx context.Context, cid string, max int64) (*module, error) {
	if m := c.mods.get(cid); m != nil && int64(len(m.b)) <= max {
		return m, nil
	}
	b, err := c.Cat(ctx, cid, max) // refuses more than max, cached or not
	if err != nil {
		return nil, err
	}
	m := &module{b: b, hash: executor.HashModule(b), files: executor.NeedsFiles(b)}
	c.mods.put(cid, m)
	return m, nil
}

// fetchModule is the module of a job: from content's cache when it keeps
// one, else fetched (and inspected) for this run.
func fetchModule(ctx context.Context, content Content, cid string, max int64) (*module, error) {
	if ms, ok := content.(moduleSource); ok {
		return ms.module(ctx, cid, max)
	}
	b, err := content.Cat(ctx, cid, max)
	if err != nil {
		return nil, err
	}
	return &module{b: b, files: executor.NeedsFiles(b)}, nil
}

// memDir is a writable directory on a memory file system, or "" when
// there is none (checked once per process).
var memDir = sync.OnceValue(func() string {
	const shm = "/dev/shm"
	d, err := os.MkdirTemp(shm, "cloudless-probe-")
	if err != nil {
		return ""
	}
	_ = os.Remove(d)
	return shm
})

// scratchName is a fresh path under dir for a job's scratch directory;
// nothing is created.
func scratchName(dir string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(dir, "cloudless-job-"+hex.EncodeToString(b[:]))
}

// MemFile is one entry of a directory held in memory: a file (Path,
// slash-separated and relative, and Data) or, with Dir, a directory.
type MemFile struct {
	Path string
	Data []byte
	Dir  bool
}

// FilesAdder is an optional Content extension: AddFiles imports files
// held in memory as one UnixFS directory, pins it and returns its CID,
// the CID AddDir gives the same tree laid out on disk. With it, a job
// that ran without a /out is imported with no file written at all.
type FilesAdder interface {
	AddFiles(ctx context.Context, files []MemFile) (string, error)
}

// addOutput imports x's output directory (stdout, stderr, out/) and
// returns its CID: from memory when x ran without a /out and Content
// can (FilesAdder), else from a directory laid out for it (layout).
func (p *Provider) addOutput(ctx context.Context, x *execution, work string) (string, error) {
	if fa, ok := p.d.Content.(FilesAdder); ok && x.outDir == "" {
		return fa.AddFiles(ctx, []MemFile{
			{Path: StdoutName, Data: x.stdout}, {Path: StderrName, Data: x.stderr}, {Path: OutDirName, Dir: true}})
	}
	root, cleanup, err := p.layout(x, work)
	if err != nil {
		return "", err
	}
	defer cleanup()
	return p.d.Content.AddDir(ctx, root)
}

// layout makes the output directory of x (stdout, stderr, out/) for its
// import and returns it with a func that removes what layout made. A run
// with a /out already has its directory under work: stdout and stderr
// are written beside out/. A run without one is laid out afresh, on the
// memory file system when the output is small and the provider uses the
// default WorkDir.
func (p *Provider) layout(x *execution, work string) (string, func(), error) {
	nothing := func() {}
	root := filepath.Join(work, "result")
	if x.outDir == "" {
		base := p.cfg.WorkDir
		if m := memDir(); m != "" && base == os.TempDir() && len(x.stdout)+len(x.stderr) <= memLayoutMax {
			base = m
		}
		root = scratchName(base)
		if err := os.MkdirAll(filepath.Join(root, OutDirName), 0o755); err != nil {
			return "", nothing, err
		}
		dir := root
		nothing = func() { _ = os.RemoveAll(dir) }
	}
	if err := os.WriteFile(filepath.Join(root, StdoutName), x.stdout, 0o644); err != nil {
		nothing()
		return "", func() {}, err
	}
	if err := os.WriteFile(filepath.Join(root, StderrName), x.stderr, 0o644); err != nil {
		nothing()
		return "", func() {}, err
	}
	return root, nothing, nil
}
