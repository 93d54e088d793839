// Package guardfs confines a wazero directory mount to its host directory.
//
// wazero's DirFS joins guest paths onto the host directory and lets the OS
// follow symlinks, and it lets a guest create relative symlinks
// (path_symlink "../../etc/passwd"). A guest could then read or write any
// host file through a link it made in /out, or through a link that came in an
// input directory. FS refuses to create symlinks and refuses any path whose
// resolved host location leaves the mount's directory.
package guardfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// FS wraps sysfs.DirFS(root) and keeps every path inside root.
type FS struct {
	experimentalsys.FS
	root     string // absolute, symlinks resolved
	readOnly bool
}

// New returns a confined FS for the host directory dir. A read-only FS
// answers EROFS to every open that could create or change a file, and
// sysfs.ReadFS refuses the other mutating calls.
func New(dir string, readOnly bool) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "mount", Path: dir, Err: errors.New("not a directory")}
	}
	inner := sysfs.DirFS(root)
	if readOnly {
		inner = &sysfs.ReadFS{FS: inner}
	}
	return &FS{FS: inner, root: root, readOnly: readOnly}, nil
}

func (f *FS) within(p string) bool {
	return p == f.root || strings.HasPrefix(p, f.root+string(filepath.Separator))
}

// check returns EPERM when the guest path p resolves outside the root.
// followLast says whether the operation follows a symlink in the last
// component (open, stat) or acts on the entry itself (lstat, unlink).
func (f *FS) check(p string, followLast bool) experimentalsys.Errno {
	full := filepath.Join(f.root, p)
	if !f.within(full) {
		return experimentalsys.EPERM
	}
	if full == f.root {
		return 0
	}
	if !followLast {
		full = filepath.Dir(full)
	}
	r, err := filepath.EvalSymlinks(full)
	if err == nil {
		if !f.within(r) {
			return experimentalsys.EPERM
		}
		return 0
	}
	if followLast {
		// The entry may not exist yet (O_CREAT). A dangling symlink would be
		// followed by the create, so refuse it; otherwise check the parent.
		if st, lerr := os.Lstat(full); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return experimentalsys.EPERM
		}
		if r, err := filepath.EvalSymlinks(filepath.Dir(full)); err == nil && !f.within(r) {
			return experimentalsys.EPERM
		}
	}
	// Let the wrapped FS report ENOENT and friends.
	return 0
}

// OpenFile implements experimentalsys.FS.
func (f *FS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	const mutating = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_CREAT |
		experimentalsys.O_TRUNC | experimentalsys.O_APPEND
	if f.readOnly && flag&mutating != 0 {
		return nil, experimentalsys.EROFS
	}
	if e := f.check(path, flag&experimentalsys.O_NOFOLLOW == 0); e != 0 {
		return nil, e
	}
	return f.FS.OpenFile(path, flag, perm)
}

// Lstat implements experimentalsys.FS.
func (f *FS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) {
	if e := f.check(path, false); e != 0 {
		return sys.Stat_t{}, e
	}
	return f.FS.Lstat(path)
}

// Stat implements experimentalsys.FS.
func (f *FS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	if e := f.check(path, true); e != 0 {
		return sys.Stat_t{}, e
	}
	return f.FS.Stat(path)
}

// Mkdir implements experimentalsys.FS.
func (f *FS) Mkdir(path string, perm fs.FileMode) experimentalsys.Errno {
	if e := f.check(path, false); e != 0 {
		return e
	}
	return f.FS.Mkdir(path, perm)
}

// Chmod implements experimentalsys.FS.
func (f *FS) Chmod(path string, perm fs.FileMode) experimentalsys.Errno {
	if e := f.check(path, true); e != 0 {
		return e
	}
	return f.FS.Chmod(path, perm)
}

// Rename implements experimentalsys.FS.
func (f *FS) Rename(from, to string) experimentalsys.Errno {
	if e := f.check(from, false); e != 0 {
		return e
	}
	if e := f.check(to, false); e != 0 {
		return e
	}
	return f.FS.Rename(from, to)
}

// Rmdir implements experimentalsys.FS.
func (f *FS) Rmdir(path string) experimentalsys.Errno {
	if e := f.check(path, false); e != 0 {
		return e
	}
	return f.FS.Rmdir(path)
}

// Unlink implements experimentalsys.FS.
func (f *FS) Unlink(path string) experimentalsys.Errno {
	if e := f.check(path, false); e != 0 {
		return e
	}
	return f.FS.Unlink(path)
}

// Link implements experimentalsys.FS. link(2) does not follow a symlink in
// the old path on Linux, but it refuses to hard-link directories, so checking
// both parents is enough.
func (f *FS) Link(oldPath, newPath string) experimentalsys.Errno {
	if e := f.check(oldPath, true); e != 0 {
		return e
	}
	if e := f.check(newPath, false); e != 0 {
		return e
	}
	return f.FS.Link(oldPath, newPath)
}

// Symlink implements experimentalsys.FS: a guest never creates symlinks.
func (f *FS) Symlink(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// Readlink implements experimentalsys.FS.
func (f *FS) Readlink(path string) (string, experimentalsys.Errno) {
	if e := f.check(path, false); e != 0 {
		return "", e
	}
	return f.FS.Readlink(path)
}

// Utimens implements experimentalsys.FS.
func (f *FS) Utimens(path string, atim, mtim int64) experimentalsys.Errno {
	if e := f.check(path, true); e != 0 {
		return e
	}
	return f.FS.Utimens(path, atim, mtim)
}

var _ experimentalsys.FS = (*FS)(nil)
