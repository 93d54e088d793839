package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Errors returned by Store methods. Check them with errors.Is.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("storage: store closed")
	// ErrServing is returned by Serve when the store already serves a host.
	ErrServing = errors.New("storage: already serving a libp2p host")
	// ErrTooLarge is returned when content exceeds the caller's size cap;
	// the transfer stops at the cap (see TooLargeError for the figures).
	ErrTooLarge = errors.New("storage: content exceeds size cap")
	// ErrTimeout is returned when a block cannot be found before the
	// caller's deadline (see NotFoundError for the CID).
	ErrTimeout = errors.New("storage: timed out fetching block")
	// ErrNotFound is returned when a block is neither local nor fetchable
	// (offline store, or the exchange gave up).
	ErrNotFound = errors.New("storage: block not found")
	// ErrCorruptRepo is returned when a stored block does not hash to its
	// CID or cannot be decoded; run Verify (`cloudless repo verify`).
	ErrCorruptRepo = errors.New("storage: repo corrupt")
	// ErrUnsafePath is returned by Get when a directory entry name from the
	// DAG would escape the output directory or already exists there.
	ErrUnsafePath = errors.New("storage: unsafe path in DAG")
	// ErrNotUnixFS is returned when a CID is not a UnixFS file or directory.
	ErrNotUnixFS = errors.New("storage: not a UnixFS file or directory")
)

// NotFoundError names the CID that could not be fetched. It wraps
// ErrTimeout when the caller's ctx ran out, ErrNotFound otherwise.
type NotFoundError struct {
	Cid     cid.Cid
	Waited  time.Duration
	Timeout bool
	Err     error // underlying cause
}

func (e *NotFoundError) Error() string {
	if e.Timeout {
		return fmt.Sprintf("storage: block %s not found after %s (timeout)", e.Cid, e.Waited.Round(time.Millisecond))
	}
	var nf ipld.ErrNotFound
	if errors.As(e.Err, &nf) || e.Err == nil {
		return fmt.Sprintf("storage: block %s not found", e.Cid)
	}
	return fmt.Sprintf("storage: block %s not found: %v", e.Cid, e.Err)
}

func (e *NotFoundError) Unwrap() []error {
	if e.Timeout {
		return []error{ErrTimeout, e.Err}
	}
	return []error{ErrNotFound, e.Err}
}

// TooLargeError reports a size cap that stopped a read.
type TooLargeError struct {
	Cid   cid.Cid
	Limit int64
	Size  int64 // declared or read-so-far size; > Limit
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("storage: %s is larger than the %d-byte cap (at least %d bytes)", e.Cid, e.Limit, e.Size)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
