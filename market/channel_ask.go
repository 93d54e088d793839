package market

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// The client asks a channel provider before crediting a silent
// assignment (docs/rationale/market.md, "Why does a provider never credit
// a channel result it produced?"). At the job's deadline (creditSilent)
// and in Settle (settleChannel) the client sends the signed Cancel it
// sends when giving up early, and acts on the answer:
//   - "credited" (the provider had no result: it credits now, or did
//     before) or "unknown" (it never recorded the award; past the
//     deadline it never will, the award having expired): the client
//     credits, as before;
//   - refused, the job has a result: the assignment stays open; the
//     provider delivers the result again (Provider.redeliver), which the
//     client records (recordResult, lateResult) and Settle pays;
//   - no answer, or any other refusal: the assignment stays open (an open
//     voucher keeps the job unfinished in the ledger) and Settle asks
//     again, with backoff.

// askAnswer is what a provider answered a deadline's Cancel.
type askAnswer int

const (
	askOpen     askAnswer = iota // no answer, or a refusal: ask again later
	askCredited                  // credited, or no record of the job: credit
	askResult                    // the job has a result: it is delivered again
)

// errAskedOpen is the assignment note of a channel provider asked at the
// job's deadline that did not confirm a credit.
const errAskedOpen = "no result before the deadline; the provider did not confirm a credit, asking again"

// askTimeout bounds one ask's round trip.
const askTimeout = 5 * time.Second

// askKey names one ask: a job and the provider asked.
type askKey struct {
	job wire.JobID
	p   peer.ID
}

// askBackoff: when an unanswered ask may be repeated, and the gap after
// that (doubling from the client's TickInterval to a minute). The zero
// value is ready to use.
type askBackoff struct {
	mu   sync.Mutex
	next map[askKey]time.Time
	gap  map[askKey]time.Duration
}

// askDue reports whether provider p may be asked about job id now.
func (c *Client) askDue(id wire.JobID, p peer.ID) bool {
	b := &c.asks
	b.mu.Lock()
	defer b.mu.Unlock()
	return !time.Now().Before(b.next[askKey{id, p}])
}

// askLater backs off the next ask of p about id; done forgets it.
func (c *Client) askLater(id wire.JobID, p peer.ID, done bool) {
	b := &c.asks
	b.mu.Lock()
	defer b.mu.Unlock()
	k := askKey{id, p}
	if done {
		delete(b.next, k)
		delete(b.gap, k)
		return
	}
	if b.next == nil {
		b.next, b.gap = map[askKey]time.Time{}, map[askKey]time.Duration{}
	}
	g := min(max(2*b.gap[k], c.cfg.TickInterval, 50*time.Millisecond), time.Minute)
	b.gap[k], b.next[k] = g, time.Now().Add(g)
}

// askSilent sends a signed Cancel of job id to each of providers, in
// parallel, and returns their answers in the same order. It is sent only
// once the job's deadline has passed; see the top of this file.
func (c *Client) askSilent(ctx context.Context, id wire.JobID, providers []peer.ID) []askAnswer {
	out := make([]askAnswer, len(providers))
	if len(providers) == 0 {
		return out
	}
	sealed, err := c.d.Seal(&wire.Cancel{JobID: id, Sender: c.d.Net.ID(), Reason: "deadline passed with no result: credit the job or deliver its result",
		Expiry: wire.TimestampOf(time.Now().Add(time.Minute))})
	if err != nil {
		c.log.Warn("seal cancel", "job", id, "err", err)
		return out
	}
	var wg sync.WaitGroup
	for n, p := range providers {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, askTimeout)
			defer cancel()
			reply, err := c.d.Net.Request(actx, p, sealed)
			switch {
			case err == nil && (string(reply) == cancelCredited || string(reply) == cancelUnknown):
				out[n] = askCredited
			case err != nil && strings.Contains(err.Error(), errHasResult.Error()):
				out[n] = askResult
			default:
				c.log.Info("deadline ask not confirmed; the assignment stays open", "job", id, "provider", p, "reply", string(reply), "err", err)
			}
			c.askLater(id, p, out[n] == askCredited)
		})
	}
	wg.Wait()
	return out
}

// askDueSilent asks, when late (the job's deadline passed), the providers
// of j's silent channel assignments whose ask is due (askDue), and
// returns the answers by assignment index (askOpen for those not asked).
func (c *Client) askDueSilent(ctx context.Context, j *Job, late bool) map[int]askAnswer {
	if !late || j.PayMode != wire.PayChannel {
		return nil
	}
	var idx []int
	var who []peer.ID
	for i := range j.Assigned {
		if a := &j.Assigned[i]; silentChannel(j, a) && c.askDue(j.ID, a.Provider) {
			idx, who = append(idx, i), append(who, a.Provider)
		}
	}
	answers := c.askSilent(ctx, j.ID, who)
	out := make(map[int]askAnswer, len(idx))
	for n, i := range idx {
		out[i] = answers[n]
	}
	return out
}
