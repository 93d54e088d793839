package trigger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	out, err := m.run(ctx, spec, opts)
	if err != nil && isWarm && retryable(err) && ctx.Err() == nil {
		m.log.Info("warm provider failed; asking the open market", "function", fn.Name, "provider", warm, "err", err)
		m.forget(fn.Module, warm)
		opts.Providers = nil
		out, err = m.run(ctx, spec, opts)
	}
	if err != nil {
		if retryable(err) {
			m.forget(fn.Module, warm)
		}
		return nil, marketErr(fn, err)
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

func (m *marketInvoker) run(ctx context.Context, spec wire.JobSpec, opts market.RunOptions) (*market.Outcome, error) {
	id, err := m.c.Submit(ctx, spec, opts)
	if err != nil {
		return nil, err
	}
	return m.c.Wait(ctx, id)
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
