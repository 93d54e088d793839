package market

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/cloudless-network/cloudless/market/wire"
)

// Sentinel errors of the market.
var (
	// ErrNotFound: a job, bid or record is unknown (Client.Job, Client.Wait).
	ErrNotFound = errors.New("market: not found")
	// ErrNoBids: no provider bid for a job before its bid deadline (see NoBidsError).
	ErrNoBids = errors.New("market: no bids")
	// ErrRefused: a provider refused a request or an award (admission,
	// payment check, duplicate); the text says why.
	ErrRefused = errors.New("market: refused")
	// ErrUnpaid: an award's payment does not check out on chain.
	ErrUnpaid = errors.New("market: payment not verified")
	// ErrDuplicate: an award, voucher or result was already accepted.
	ErrDuplicate = errors.New("market: duplicate")
	// ErrNoResult: no provider delivered a result before the deadline.
	ErrNoResult = errors.New("market: no result")
	// ErrNoMajority: redundant results disagree with no majority.
	ErrNoMajority = errors.New("market: results disagree, no majority")
	// ErrBadResult: a result does not match its output or its job.
	ErrBadResult = errors.New("market: bad result")
	// ErrCancelled: the job was cancelled.
	ErrCancelled = errors.New("market: job cancelled")
	// ErrClosed: the provider or client is closed.
	ErrClosed = errors.New("market: closed")
)

// NoBidsError says what was asked when no provider bid.
type NoBidsError struct {
	Memory   wire.Size
	Timeout  wire.Duration
	MaxPrice *big.Int
	Module   string
	Asked    int // providers asked directly (0: gossip only)
	Got      int // bids received
	Wanted   int // redundancy
	Reasons  []string
}

func (e *NoBidsError) Error() string {
	s := fmt.Sprintf("no provider bid for module %s with memory %s, timeout %s, max price %s (asked %d providers directly, got %d of %d bids)",
		e.Module, e.Memory, e.Timeout, wire.FormatWei(e.MaxPrice), e.Asked, e.Got, e.Wanted)
	if len(e.Reasons) > 0 {
		s += "; refusals: " + joinMax(e.Reasons, 3)
	}
	return s + "; try a higher --max-price, less --memory, or check `cloudless offers`"
}

func (e *NoBidsError) Is(target error) bool { return target == ErrNoBids }

func joinMax(s []string, n int) string {
	out := ""
	for i, x := range s {
		if i == n {
			out += fmt.Sprintf(" (+%d more)", len(s)-n)
			break
		}
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}
