package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// MarketClient is the part of *market.Client the market invoker uses.
type MarketClient interface {
	Submit(ctx context.Context, spec wire.JobSpec, opts market.RunOptions) (wire.JobID, error)
	Wait(ctx context.Context, id wire.JobID) (*market.Outcome, error)
	// Cancel and Job stop a job the caller gave up on and tell what it
	// had committed by then (see marketInvoker.abandon).
	Cancel(ctx context.Context, id wire.JobID) error
	Job(id wire.JobID) (*market.Job, error)
}

var _ MarketClient = (*market.Client)(nil)

// Publisher stores a request body in IPFS so the provider can fetch it as
// the job's stdin (the node's store: storage.Store.AddBytes).
type Publisher interface {
	AddBytes(ctx context.Context, b []byte) (string, error)
}

// MarketOption configures NewMarketInvoker.
type MarketOption func(*marketInvoker)

// WithMarketLogger sets the logger (default slog.Default()).
func WithMarketLogger(l *slog.Logger) MarketOption {
	return func(m *marketInvoker) { m.log = l }
}

type marketInvoker struct {
	c       MarketClient
	content Publisher
	log     *slog.Logger

	mu   sync.Mutex
	warm map[string]peer.ID // module CID -> provider that last ran it well
}

// NewMarketInvoker runs each invocation as a market job: the spec is the
// function's (module CID, args, env, resources, price max, deterministic)
// with the invocation's env merged over the function's, its args
// appended, its inputs mounted, and its stdin published to IPFS first;
// redundancy 1, paid by the function's PayMode (channel by default: one
// voucher per invocation on the open channel).
//
// Warm preference: it remembers, per module CID, the provider that last
// ran the module successfully (its compile cache is warm and the channel to
// it is open) and asks that provider first. When it does not bid the
// market client falls back to the offer topic in the same job; when it
// fails after bidding (no result, refused award), the invocation is retried
// once on the open market if the deadline allows.
//
// When ctx ends first (the gateway answered 504), the job is cancelled;
// if it was already awarded, and so paid for, the error says so and a
// partial Output carries the job, the provider and the price (abandon).
//
// Errors (one line): ErrDeadline and ErrStopped when the provider's
// sandbox stopped the function, ErrNoProvider when no provider bid or
// delivered, the market's error otherwise.
func NewMarketInvoker(c MarketClient, content Publisher, opts ...MarketOption) Invoker {
	m := &marketInvoker{c: c, content: content, log: slog.Default(), warm: map[string]peer.ID{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// WarmProvider returns the provider the invoker prefers for module, if any.
func WarmProvider(inv Invoker, module string) (peer.ID, bool) {
	m, ok := inv.(*marketInvoker)
	if !ok {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.warm[module]
	return p, ok
}

func (m *marketInvoker) spec(ctx context.Context, fn *Function, inv Invocation) (wire.JobSpec, error) {
	spec := wire.JobSpec{
		Module:        fn.Module,
		Args:          append(append([]string(nil), fn.Args...), inv.Args...),
		Env:           mergeEnv(fn.Env, inv.Env),
		Stdin:         inv.StdinCID,
		Inputs:        inv.Inputs,
		Resources:     fn.Resources,
		Price:         wire.Price{Max: fn.MaxPrice},
		Redundancy:    1,
		Deterministic: fn.Deterministic,
	}
	if len(inv.Stdin) > 0 {
		c, err := m.content.AddBytes(ctx, inv.Stdin)
		if err != nil {
			return spec, fmt.Errorf("function %s: publish the request body: %w", fn.Name, err)
		}
		spec.Stdin = c
	}
	spec.ApplyDefaults()
	if err := spec.Validate(); err != nil {
		return spec, fmt.Errorf("function %s: %w", fn.Name, err)
	}
	return spec, nil
}

func (m *marketInvoker) Invoke(ctx context.Context, fn *Function, inv Invocation) (*Output, error) {
	start := time.Now()
	if fn.MaxPrice == nil || fn.MaxPrice.Sign() <= 0 {
		return nil, fmt.Errorf("function %s has no price cap: add price: {max: ...} to the manifest (or local: true)", fn.Name)
	}
	spec, err := m.spec(ctx, fn, inv)
	if err != nil {
		return nil, err
	}
	pay := fn.PayMode
	if pay == "" {
		pay = wire.PayChannel
	}
	m.mu.Lock()
	warm, isWarm := m.warm[fn.Module]
	m.mu.Unlock()

	opts := market.RunOptions{PayMode: pay}
	if isWarm {
		opts.Providers = []peer.ID{warm}
	}
	out, id, err := m.run(ctx, spec, opts)
	if err != nil && isWarm && retryable(err) && ctx.Err() == nil {
		m.log.Info("warm provider failed; asking the open market", "function", fn.Name, "provider", warm, "err", err)
		m.forget(fn.Module, warm)
		opts.Providers = nil
		out, id, err = m.run(ctx, spec, opts)
	}
	if err != nil {
		if retryable(err) {
			m.forget(fn.Module, warm)
		}
		err = marketErr(fn, err)
		if ctx.Err() != nil && id != (wire.JobID{}) {
			// The caller gave up (the gateway answered 504): the job must
			// not run on and be paid unnoticed.
			return m.abandon(fn, id, err, start)
		}
		return nil, err
	}
	o := &Output{ExitCode: out.ExitCode, Stdout: out.Stdout, Stderr: out.Stderr, ResultCID: out.Job.ResultCID,
		JobID: out.Job.ID.String(), Price: out.Job.Paid, Duration: time.Since(start)}
	for _, a := range out.Job.Assigned {
		if a.State == market.StatePaid {
			o.Provider = a.Provider.String()
			o.Price = a.Price
			m.mu.Lock()
			m.warm[fn.Module] = a.Provider
			m.mu.Unlock()
			break
		}
	}
	return o, nil
}

func (m *marketInvoker) run(ctx context.Context, spec wire.JobSpec, opts market.RunOptions) (*market.Outcome, wire.JobID, error) {
	id, err := m.c.Submit(ctx, spec, opts)
	if err != nil {
		return nil, id, err
	}
	out, err := m.c.Wait(ctx, id)
	return out, id, err
}

// abandonWait bounds how long abandon waits for a cancelled job to wind
// down (the market stops a job's waits at once when it is cancelled).
const abandonWait = 10 * time.Second

// abandon handles a job whose caller gave up (ctx ended, the gateway
// answered 504). It cancels the job; before the award that ends it and
// nothing is paid. After the award the payment is already promised (the
// channel voucher went out with the award, or the escrow deal is open):
// the provider runs the job and is paid when it delivers, unless its
// sandbox stops it (then the price is credited back). abandon cannot undo
// that, so it says so: the error names the job, the provider and the
// amount, and the partial Output carries them so the Service records the
// job in the function's log and counts the amount against the daily cap.
func (m *marketInvoker) abandon(fn *Function, id wire.JobID, cause error, start time.Time) (*Output, error) {
	ctx, cancel := context.WithTimeout(context.Background(), abandonWait)
	defer cancel()
	if err := m.c.Cancel(ctx, id); err != nil && !errors.Is(err, market.ErrNotFound) {
		m.log.Warn("cancel abandoned job", "function", fn.Name, "job", id, "err", err)
	}
	_, _ = m.c.Wait(ctx, id) // until it has wound down: its record is then final
	o := &Output{JobID: id.String(), ExitCode: -1, Duration: time.Since(start)}
	j, err := m.c.Job(id)
	if err != nil {
		return o, fmt.Errorf("%w; job %s: %v", cause, id, err)
	}
	committed := new(big.Int)
	for _, a := range j.Assigned {
		if a.Price == nil || a.Credited || a.State == market.StateRefunded || a.State == market.StateCancelled {
			continue
		}
		if a.Cumulative != nil || a.DealOpen {
			committed.Add(committed, a.Price)
			o.Provider = a.Provider.String()
		}
	}
	if committed.Sign() == 0 {
		m.log.Debug("abandoned job cancelled before its award", "function", fn.Name, "job", id)
		return o, fmt.Errorf("%w; job %s cancelled, nothing paid", cause, id)
	}
	o.Price = committed
	m.log.Warn("abandoned job was already paid for; it runs on", "function", fn.Name, "job", id, "provider", o.Provider,
		"price_wei", committed)
	return o, fmt.Errorf("%w; job %s was already awarded to %s for %s and could not be cancelled: it is paid when it delivers",
		cause, id, o.Provider, formatEther(committed))
}

func (m *marketInvoker) forget(module string, p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.warm[module] == p {
		delete(m.warm, module)
	}
}

// retryable: the failure is the provider's (it did not bid, refused the
// award, or stayed silent), not the function's.
func retryable(err error) bool {
	return errors.Is(err, market.ErrNoBids) || errors.Is(err, market.ErrNoResult) || errors.Is(err, market.ErrRefused) ||
		errors.Is(err, market.ErrBadResult)
}

// marketErr maps a market failure to the trigger errors, in one line.
func marketErr(fn *Function, err error) error {
	switch {
	case errors.Is(err, market.ErrStopped):
		cause := err.Error()
		if i := strings.Index(cause, market.ErrStopped.Error()+": "); i >= 0 {
			cause = cause[i+len(market.ErrStopped.Error())+2:]
		}
		if strings.HasPrefix(cause, "deadline of") {
			return fmt.Errorf("function %s %w of %s", fn.Name, ErrDeadline, fn.Resources.Timeout)
		}
		return fmt.Errorf("function %s %w: %s", fn.Name, ErrStopped, oneLineText(cause))
	case errors.Is(err, market.ErrNoBids), errors.Is(err, market.ErrNoResult):
		return fmt.Errorf("function %s: %w: %s", fn.Name, ErrNoProvider, oneLineText(err.Error()))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("function %s %w of %s: %w", fn.Name, ErrDeadline, fn.Resources.Timeout, err)
	}
	return fmt.Errorf("function %s: %w", fn.Name, err)
}

// oneLineText keeps the first line of s, at most 300 bytes.
func oneLineText(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
