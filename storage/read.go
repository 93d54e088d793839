package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/files"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// getRoot fetches and decodes the root node of c, with the store's error
// mapping (timeout naming the CID, corrupt repo).
func (s *Store) getRoot(ctx context.Context, ng ipld.NodeGetter, c cid.Cid) (ipld.Node, error) {
	start := time.Now()
	nd, err := ng.Get(ctx, c)
	if err != nil {
		return nil, s.fetchErr(ctx, c, start, err)
	}
	return nd, nil
}

// fetchErr turns a block-fetch failure into NotFoundError (timeout or
// missing, naming the CID) or ErrCorruptRepo.
func (s *Store) fetchErr(ctx context.Context, c cid.Cid, start time.Time, err error) error {
	if err == nil {
		return nil
	}
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return err
	}
	if errors.Is(err, blockstore.ErrHashMismatch) {
		return fmt.Errorf("%w: a stored block of %s does not match its hash (run `cloudless repo verify`)", ErrCorruptRepo, c)
	}
	var nf ipld.ErrNotFound
	if errors.As(err, &nf) && nf.Cid.Defined() {
		c = nf.Cid
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &NotFoundError{Cid: c, Waited: time.Since(start), Timeout: true, Err: err}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("storage: fetching %s: %w", c, ctx.Err())
	}
	if ipld.IsNotFound(err) {
		return &NotFoundError{Cid: c, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &NotFoundError{Cid: c, Waited: time.Since(start), Timeout: true, Err: err}
	}
	return fmt.Errorf("storage: fetching %s: %w", c, err)
}

// fileSize is the declared size of a UnixFS file node (raw or dag-pb).
func fileSize(nd ipld.Node) (int64, bool, error) {
	switch n := nd.(type) {
	case *dag.RawNode:
		return int64(len(n.RawData())), true, nil
	case *dag.ProtoNode:
		fsn, err := unixfs.FSNodeFromBytes(n.Data())
		if err != nil {
			return 0, false, fmt.Errorf("%w: %s: %v", ErrNotUnixFS, nd.Cid(), err)
		}
		switch fsn.Type() {
		case unixfs.TFile, unixfs.TRaw:
			return int64(fsn.FileSize()), true, nil
		case unixfs.TDirectory, unixfs.THAMTShard:
			return 0, false, nil
		case unixfs.TSymlink:
			return int64(len(fsn.Data())), true, nil
		}
		return 0, false, fmt.Errorf("%w: %s has UnixFS type %s", ErrNotUnixFS, nd.Cid(), fsn.Type())
	}
	return 0, false, fmt.Errorf("%w: %s has codec %#x", ErrNotUnixFS, nd.Cid(), nd.Cid().Prefix().Codec)
}

// ReadFile returns the whole UnixFS file c, fetching missing blocks from
// the network when serving. A file larger than maxSize (declared, or
// actually read, since a peer's DAG may lie about its size) is refused
// with a TooLargeError; maxSize <= 0 means no cap. ctx bounds the fetch.
//
// # Errors
//
//   - *NotFoundError (ErrTimeout, ErrNotFound) naming the missing CID.
//   - *TooLargeError (ErrTooLarge); ErrNotUnixFS for a directory or other DAG.
//   - ErrCorruptRepo when a stored block fails its hash check.
func (s *Store) ReadFile(ctx context.Context, c cid.Cid, maxSize int64) ([]byte, error) {
	r, size, err := s.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if maxSize > 0 && size > maxSize {
		return nil, &TooLargeError{Cid: c, Limit: maxSize, Size: size}
	}
	start := time.Now()
	lr := io.Reader(r)
	if maxSize > 0 {
		lr = io.LimitReader(r, maxSize+1)
	}
	buf := make([]byte, 0, min(max(size, 0), 64<<20)+1)
	w := &sliceWriter{b: buf}
	n, err := io.Copy(w, lr)
	if err != nil {
		return nil, s.fetchErr(ctx, c, start, err)
	}
	if maxSize > 0 && n > maxSize {
		return nil, &TooLargeError{Cid: c, Limit: maxSize, Size: n}
	}
	return w.b, nil
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// Open returns a reader over the UnixFS file c and its declared size.
// Blocks are fetched as the reader advances; ctx bounds all of them.
// The caller closes the reader.
func (s *Store) Open(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	if err := s.checkOpen(); err != nil {
		return nil, 0, err
	}
	ng := dag.NewSession(ctx, s.dagService())
	nd, err := s.getRoot(ctx, ng, c)
	if err != nil {
		return nil, 0, err
	}
	size, isFile, err := fileSize(nd)
	if err != nil {
		return nil, 0, err
	}
	if !isFile {
		return nil, 0, fmt.Errorf("%w: %s is a directory", ErrNotUnixFS, c)
	}
	dr, err := uio.NewDagReader(ctx, nd, ng)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: open %s: %w", c, err)
	}
	return &errMapReader{DagReader: dr, s: s, ctx: ctx, c: c}, size, nil
}

// errMapReader maps fetch errors in the middle of a read.
type errMapReader struct {
	uio.DagReader
	s   *Store
	ctx context.Context
	c   cid.Cid
}

func (r *errMapReader) Read(p []byte) (int, error) {
	start := time.Now()
	n, err := r.DagReader.Read(p)
	if err != nil && err != io.EOF {
		err = r.s.fetchErr(r.ctx, r.c, start, err)
	}
	return n, err
}

// Get writes the UnixFS file or directory c to outPath, which must not
// exist. It stops with a TooLargeError once more than maxSize bytes of
// file content were written (maxSize <= 0: no cap), and calls progress
// (if not nil) with the bytes written so far. Entry names from the DAG
// that are not plain names ("", ".", "..", containing "/") are refused
// with ErrUnsafePath, and nothing is written through symlinks. On error
// the partial output is removed.
func (s *Store) Get(ctx context.Context, c cid.Cid, outPath string, maxSize int64, progress func(n int64)) (err error) {
	if err := s.checkOpen(); err != nil {
		return err
	}
	start := time.Now()
	ng := dag.NewSession(ctx, s.dagService())
	nd, err := s.getRoot(ctx, ng, c)
	if err != nil {
		return err
	}
	if size, isFile, err := fileSize(nd); err != nil {
		return err
	} else if isFile && maxSize > 0 && size > maxSize {
		return &TooLargeError{Cid: c, Limit: maxSize, Size: size}
	}
	fn, err := unixfile.NewUnixfsFile(ctx, dag.NewReadOnlyDagService(ng), nd)
	if err != nil {
		return s.fetchErr(ctx, c, start, err)
	}
	defer fn.Close()
	if _, err := os.Lstat(outPath); err == nil {
		return fmt.Errorf("storage: get %s: %s already exists", c, outPath)
	}
	w := &getWriter{c: c, max: maxSize, progress: progress}
	defer func() {
		if err != nil {
			os.RemoveAll(outPath)
			err = s.fetchErr(ctx, c, start, err)
		}
	}()
	return w.write(ctx, fn, outPath)
}

type getWriter struct {
	c        cid.Cid
	max      int64
	n        int64
	progress func(int64)
}

func safeName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("%w: entry name %q", ErrUnsafePath, name)
	}
	return nil
}

func (w *getWriter) write(ctx context.Context, n files.Node, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch f := n.(type) {
	case *files.Symlink:
		return os.Symlink(f.Target, path)
	case files.File:
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, &capReader{r: f, w: w})
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	case files.Directory:
		if err := os.Mkdir(path, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%w: %s appears twice", ErrUnsafePath, path)
			}
			return err
		}
		it := f.Entries()
		for it.Next() {
			if err := safeName(it.Name()); err != nil {
				return err
			}
			child := filepath.Join(path, it.Name())
			if _, err := os.Lstat(child); err == nil {
				return fmt.Errorf("%w: %s appears twice", ErrUnsafePath, child)
			}
			if err := w.write(ctx, it.Node(), child); err != nil {
				return err
			}
		}
		return it.Err()
	}
	return fmt.Errorf("%w: unknown node at %s", ErrNotUnixFS, path)
}

// capReader enforces the Get size cap across all files and reports
// progress.
type capReader struct {
	r io.Reader
	w *getWriter
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.w.max > 0 && int64(len(p)) > c.w.max-c.w.n+1 {
		p = p[:c.w.max-c.w.n+1]
	}
	n, err := c.r.Read(p)
	c.w.n += int64(n)
	if c.w.max > 0 && c.w.n > c.w.max {
		return 0, &TooLargeError{Cid: c.w.c, Limit: c.w.max, Size: c.w.n}
	}
	if n > 0 && c.w.progress != nil {
		c.w.progress(c.w.n)
	}
	return n, err
}
