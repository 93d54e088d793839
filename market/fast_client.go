package market

import "github.com/cloudless-network/cloudless/market/wire"

// A channel job is written to the ledger first with its voucher and
// assignment, not at Submit (docs/rationale/market.md, "Why is a channel
// job first written with its voucher?"). Until then Client.Job answers
// from the record as submitted, kept here, so that a caller polling the
// job right after Submit (the CLI, the control API) sees it bidding
// instead of "not found". A job whose process ends without any write
// (it cannot: every end writes a state) is dropped all the same.

// holdUnwritten keeps a copy of j, just submitted, for Job.
func (c *Client) holdUnwritten(j *Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unwritten == nil {
		c.unwritten = map[wire.JobID]Job{}
	}
	c.unwritten[j.ID] = *j
}

// unwrittenJob returns a copy of the submitted record of job id when the
// ledger does not have the job yet (nil otherwise).
func (c *Client) unwrittenJob(id wire.JobID) *Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	j, ok := c.unwritten[id]
	if !ok {
		return nil
	}
	return &j
}

// dropUnwritten forgets job id's submitted record once its process ended.
func (c *Client) dropUnwritten(id wire.JobID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.unwritten, id)
}
