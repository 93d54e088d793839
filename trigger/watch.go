package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/cloudless-network/cloudless/market/wire"
)

// DefaultWatchSettle is how long a new file must be quiet (no write
// events) before a watch trigger publishes it.
const DefaultWatchSettle = 250 * time.Millisecond

// WatchStateDir is the folder a watch trigger keeps its results in, inside
// the watched directory: WatchStateDir/<function>.json maps each processed
// file to its input CID, output CID, job and exit code.
const WatchStateDir = ".cloudless"

// InputPath is where a watch trigger mounts the new file in the sandbox.
const InputPath = "/input"

// FilePublisher adds a host file to IPFS and returns its CID (the node's
// IPFS store; the CID is the one `cloudless publish FILE` prints).
type FilePublisher interface {
	AddPath(ctx context.Context, path string) (string, error)
}

// WatchResult is what a watch trigger recorded for one file.
type WatchResult struct {
	// Size and ModTime identify the version of the file that ran: a file
	// rewritten later (another size or time) runs again.
	Size      int64     `json:"size"`
	ModTime   time.Time `json:"mod_time"`
	InputCID  string    `json:"input_cid"`
	OutputCID string    `json:"output_cid,omitempty"`
	JobID     string    `json:"job_id,omitempty"`
	ExitCode  int32     `json:"exit_code"`
	Time      time.Time `json:"time"`
}

// WatchResults reads the results a watch trigger of function fn recorded
// in dir (empty when none).
func WatchResults(dir, fn string) (map[string]WatchResult, error) {
	b, err := os.ReadFile(filepath.Join(dir, WatchStateDir, fn+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]WatchResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]WatchResult{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, WatchStateDir, fn+".json"), err)
	}
	return m, nil
}

// ignoredName says which names a watch trigger leaves alone: hidden files
// (our own WatchStateDir, editors' swap files) and the usual names of
// files still being written, which are renamed to their final name when
// complete (rename-in is the reliable way to drop a file in).
func ignoredName(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return true
	}
	for _, ext := range []string{".tmp", ".part", ".partial", ".crdownload", ".swp"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// watchTrigger runs a function for every new regular file in a directory
// (not its subdirectories). fsnotify reports creates, writes and renames
// into the directory; a file is taken once it has been quiet for the
// settle time (fsnotify does not portably expose IN_CLOSE_WRITE), then
// published to IPFS and mounted read-only at /input, with INPUT_NAME and
// INPUT_CID in the environment. Files are handled one at a time, in the
// order they settle. A file whose run finished (any exit code) is recorded
// in WatchStateDir and not run again, across restarts; one whose
// invocation failed (no provider, over budget) is retried at the next
// start or when it is written again.
type watchTrigger struct {
	s      *Service
	fn     *Function
	dir    string
	w      *fsnotify.Watcher
	log    *slog.Logger
	settle time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  chan string

	mu      sync.Mutex
	results map[string]WatchResult
	queued  map[string]bool
}

func (s *Service) startWatch(fn *Function, tr *Trigger, gate <-chan struct{}) (running, error) {
	st, err := os.Stat(tr.Dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", tr.Dir)
	}
	results, err := WatchResults(tr.Dir, fn.Name)
	if err != nil {
		return nil, err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("fsnotify: %w", err)
	}
	if err := w.Add(tr.Dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("watch %s: %w", tr.Dir, err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	t := &watchTrigger{
		s: s, fn: fn, dir: tr.Dir, w: w, settle: s.opts.WatchSettle,
		log: s.log.With("function", fn.Name, "dir", tr.Dir),
		ctx: ctx, cancel: cancel, queue: make(chan string, 1024),
		results: results, queued: map[string]bool{},
	}
	t.wg.Add(2)
	go t.events(gate)
	go t.worker()
	return t, nil
}

func (t *watchTrigger) stop() {
	t.cancel()
	t.w.Close()
	t.wg.Wait()
}

// events turns fsnotify events into settled names for the worker; it
// first queues the files already there that have not run.
func (t *watchTrigger) events(gate <-chan struct{}) {
	defer t.wg.Done()
	select {
	case <-gate:
	case <-t.ctx.Done():
		return
	}
	pending := map[string]time.Time{} // name → last event
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// Files already there run now, unless written within the settle time
	// (a file being written as the trigger starts): those wait like new.
	if ents, err := os.ReadDir(t.dir); err == nil {
		for _, e := range ents {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) < t.settle {
				pending[e.Name()] = time.Now()
				continue
			}
			t.enqueue(e.Name())
		}
	}
	arm := func() {
		if len(pending) == 0 {
			return
		}
		oldest := time.Time{}
		for _, at := range pending {
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
		timer.Reset(max(time.Until(oldest.Add(t.settle)), time.Millisecond))
	}
	arm()
	for {
		select {
		case <-t.ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-t.w.Events:
			if !ok {
				return
			}
			if filepath.Dir(ev.Name) != filepath.Clean(t.dir) {
				continue
			}
			name := filepath.Base(ev.Name)
			if ignoredName(name) {
				continue
			}
			switch {
			case ev.Has(fsnotify.Create), ev.Has(fsnotify.Write):
				pending[name] = time.Now()
				arm()
			case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
				delete(pending, name)
			}
		case err, ok := <-t.w.Errors:
			if !ok {
				return
			}
			// An overflowed kernel queue loses events: rescan.
			t.log.Warn("watch error; rescanning the directory", "err", err)
			if ents, err := os.ReadDir(t.dir); err == nil {
				for _, e := range ents {
					pending[e.Name()] = time.Now()
				}
				arm()
			}
		case <-timer.C:
			now := time.Now()
			for name, at := range pending {
				if now.Sub(at) >= t.settle {
					delete(pending, name)
					t.enqueue(name)
				}
			}
			arm()
		}
	}
}

// enqueue hands name to the worker unless it is ignored, not a regular
// file, already queued or already run in this version.
func (t *watchTrigger) enqueue(name string) {
	if ignoredName(name) {
		return
	}
	st, err := os.Lstat(filepath.Join(t.dir, name))
	if err != nil || !st.Mode().IsRegular() {
		return // gone, a directory, or a symlink (never followed out of the dir)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.queued[name] || t.done(name, st) {
		return
	}
	select {
	case t.queue <- name:
		t.queued[name] = true
	default:
		t.log.Warn("watch queue full; the file runs at the next start", "file", name)
	}
}

// done says whether this version of the file has run (t.mu held).
func (t *watchTrigger) done(name string, st fs.FileInfo) bool {
	r, ok := t.results[name]
	return ok && r.Size == st.Size() && r.ModTime.Equal(st.ModTime())
}

func (t *watchTrigger) worker() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case name := <-t.queue:
			t.run(name)
			t.mu.Lock()
			delete(t.queued, name)
			t.mu.Unlock()
		}
	}
}

// run publishes one file, invokes the function on it and records the
// result.
func (t *watchTrigger) run(name string) {
	path := filepath.Join(t.dir, name)
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	t.mu.Lock()
	already := t.done(name, st)
	t.mu.Unlock()
	if already {
		return
	}
	c, err := t.s.opts.Files.AddPath(t.ctx, path)
	if err != nil {
		if t.ctx.Err() == nil {
			t.log.Warn("could not publish the new file", "file", name, "err", err)
		}
		return
	}
	out, err := t.s.Invoke(t.ctx, t.fn, Invocation{
		Trigger: KindWatch,
		Detail:  path,
		Env:     map[string]string{"INPUT_NAME": name, "INPUT_CID": c},
		Inputs:  []wire.Input{{CID: c, Path: InputPath}},
	})
	if err != nil {
		if t.ctx.Err() == nil {
			t.log.Warn("watch run failed; it is retried at the next start or when the file is written again", "file", name, "err", err)
		}
		return
	}
	res := WatchResult{
		Size: st.Size(), ModTime: st.ModTime(), InputCID: c, OutputCID: out.ResultCID,
		JobID: out.JobID, ExitCode: out.ExitCode, Time: t.s.clock.Now().UTC(),
	}
	t.mu.Lock()
	t.results[name] = res
	snapshot := make(map[string]WatchResult, len(t.results))
	for k, v := range t.results {
		snapshot[k] = v
	}
	t.mu.Unlock()
	if err := t.save(snapshot); err != nil {
		t.log.Warn("watch results not saved; the file may run again after a restart", "file", name, "err", err)
	}
	t.log.Info("watch run", "file", name, "input", c, "output", out.ResultCID, "exit", out.ExitCode)
}

// save writes the results file atomically: temp file, fsync, rename,
// fsync of the folder.
func (t *watchTrigger) save(m map[string]WatchResult) error {
	dir := filepath.Join(t.dir, WatchStateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, t.fn.Name+".json"), b)
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
