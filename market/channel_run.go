package market

import (
	"context"
	"errors"
)

// Per-job run contexts: a channel job its client cancels before it has a
// result (Provider.cancelAwarded) is credited at once, and its sandbox is
// stopped at once too instead of running to its end for nothing.
// execute and awardFast run under jobContext (held in Provider.runStops
// by job key); stopRun cancels it. The run then ends as a credited
// failure (errGivenUp).

// jobContext returns a context for the run of job key under ctx, which
// stopRun(key) cancels, and the func that releases it (it cancels the
// context too). cancelled reports whether stopRun stopped it.
func (p *Provider) jobContext(ctx context.Context, key string) (rctx context.Context, release func(), cancelled func() bool) {
	rctx, cancel := context.WithCancelCause(ctx)
	p.runStops.Store(key, func() { cancel(errStopRun) })
	return rctx, func() { p.runStops.Delete(key); cancel(nil) }, func() bool { return context.Cause(rctx) == errStopRun }
}

// errStopRun is the cause of a run context stopped by a Cancel.
var errStopRun = errors.New("cancelled by the client")

// stopRun stops the run of job key, if one is under way.
func (p *Provider) stopRun(key string) {
	if f, ok := p.runStops.LoadAndDelete(key); ok {
		f.(func())()
	}
}
