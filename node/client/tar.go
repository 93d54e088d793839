package client

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrTooLarge is returned by Untar when the files pass its size cap.
var ErrTooLarge = errors.New("content too large")

// Untar writes the tar stream r below dir and returns the bytes of file
// content written. Only regular files, directories and symlinks are
// accepted, and names must stay below dir: os.Root refuses "..", absolute
// names and writes through symlinks. maxSize > 0 caps the file bytes.
// The daemon uses it for `publish -r` uploads and the CLI for directories
// that `get` streams from the daemon.
func Untar(r io.Reader, dir string, maxSize int64) (int64, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read tar: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !fs.ValidPath(name) {
			return total, fmt.Errorf("unsafe tar entry %q", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return total, err
			}
		case tar.TypeReg:
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return total, err
			}
			var src io.Reader = tr
			if maxSize > 0 {
				src = io.LimitReader(tr, maxSize-total+1)
			}
			n, err := io.Copy(f, src)
			total += n
			if err == nil && maxSize > 0 && total > maxSize {
				err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return total, err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(h.Linkname, name); err != nil {
				return total, err
			}
		default:
			return total, fmt.Errorf("tar entry %q: type %q not supported (files, directories and symlinks only)", h.Name, h.Typeflag)
		}
	}
}

// WriteTar writes the tree below dir to w with names relative to dir:
// directories (empty ones too), regular files and symlinks (not followed),
// skipping dot files unless hidden, as AddPath does.
func WriteTar(w io.Writer, dir string, hidden bool) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if !hidden && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755})
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: rel, Linkname: target, Mode: 0o777})
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Size: st.Size(), Mode: 0o644}); err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			return err
		default:
			return fmt.Errorf("%s: not a file, directory or symlink", p)
		}
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
