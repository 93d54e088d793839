package market

import (
	"context"
	"slices"

	"github.com/cloudless-network/cloudless/market/wire"
)

// A channel result is acknowledged only once the client's ledger has it
// (DESIGN: persist before acting over the network; the Result's reply is
// what the provider acts on: it marks the job delivered and counts its
// voucher earned). Before, the reply left as soon as the result was
// handed to the waiting process, ahead of decide's write; a client that
// crashed in between restarted with the job awarded and silent, credited
// it at the deadline, while the provider counted it paid, and every later
// voucher on the channel was refused as not covering the total.
//
// handleResult hands the process the result with an ack channel and
// waits; the process closes it after the write that holds the result
// (decide's, a failure report's, a late result's), or at once for a
// result it drops (as before: not one of its open assignments). If the
// process ends first, the ledger is read: a result it has is
// acknowledged, one it lacks is recorded now (recordResult).

// resultAck returns the ack channel for a result of job j: nil (no wait)
// for escrow, whose payment is on chain.
func resultAck(j *Job) chan struct{} {
	if j.PayMode != wire.PayChannel {
		return nil
	}
	return make(chan struct{})
}

// closeAck closes ack if there is one.
func closeAck(ack chan struct{}) {
	if ack != nil {
		close(ack)
	}
}

// awaitRecorded waits until the result r handed to a process (done: its
// end) is in the ledger, and returns the reply's error: nil once it is
// recorded, the error of recordResult if the process ended without it.
// A ctx ended first returns its error: the provider delivers again.
func (c *Client) awaitRecorded(ctx context.Context, r *wire.Result, ack chan struct{}, done <-chan struct{}) error {
	if ack == nil {
		return nil
	}
	select {
	case <-ack:
		return nil
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	j, err := c.Job(r.JobID)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Provider == r.Provider }); i >= 0 && j.Assigned[i].ResultCID != "" {
		return nil
	}
	return c.recordResult(r)
}
