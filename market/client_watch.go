package market

import "slices"

// WatchAll delivers every job event of this client (all jobs, as Events
// does for one) until the returned stop is called. A slow reader misses
// events rather than stalling the market (the channel holds 256); the
// control API's event stream re-reads the job on each event and polls as
// a fallback, so a missed event costs latency, not state.
func (c *Client) WatchAll() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	c.mu.Lock()
	c.all = append(c.all, ch)
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.all, ch); i >= 0 {
			c.all = slices.Delete(c.all, i, i+1)
			close(ch)
		}
	}
}
